//go:build linux

// Package datapath holds avedge's sockets and packet loop: non-blocking UDP
// sockets driven by raw system calls outside Go's netpoller, and workers that
// each own one epoll instance, read every ready socket in batches with
// recvmmsg(2) into one buffer slab allocated up front, and hand each datagram
// to a Handler in place.
//
// The package supports Linux only (every file carries a linux build
// constraint): it relies on epoll, eventfd, recvmmsg and SO_REUSEPORT.
//
// The receive and send paths do not allocate: a worker owns its message
// headers, address buffers and packet slab, and Conn.WriteTo passes a raw
// sockaddr built on the stack to sendto(2).
//
// Concurrency model: a Worker runs on one goroutine (locked to its OS thread).
// Handler callbacks, functions queued with Worker.Do, and Worker.Add and
// Worker.Remove while Run is active all execute on that goroutine, so the
// worker's state needs no locks. Worker.Do, Worker.Close and Worker.Stats may
// be called from any goroutine.
//
// The package knows nothing of STUN, TURN or configuration files; the server
// composes it.
package datapath
