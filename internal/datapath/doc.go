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
// headers, address and control-message buffers and packet slab, Conn.WriteTo
// passes a raw sockaddr built on the stack to sendto(2), and Conn.WriteToTOS
// adds a control message, also on the stack, for sendmsg(2).
//
// Handlers send with Conn.QueueTo: the worker copies each datagram into its
// send queue (allocated once) and, at the end of each round of deliveries
// (after Handler.EndRound) or when the queue is full, sends the queue with
// one sendmmsg(2) per socket. Consecutive datagrams to one destination with
// the same size go out as one UDP_SEGMENT send (UDP GSO) where the kernel
// supports it, probed when the worker is created.
//
// Sockets opened with ListenConfig.RecvDrops report the kernel's count of
// datagrams dropped on their full receive queue (SO_RXQ_OVFL), which the
// worker sums into Stats.RxDropped.
//
// Sockets opened with ListenConfig.RecvTOS report the TOS byte (IPv4) or
// Traffic Class (IPv6) of each datagram to the Handler in Meta, so that a
// relay can carry DSCP and ECN markings over with Conn.WriteToTOS (RFC 8656
// §14). Conn.SetDontFragment keeps the kernel from fragmenting what a socket
// sends.
//
// Concurrency model: a Worker runs on one goroutine (locked to its OS thread).
// Handler callbacks, functions queued with Worker.Do, and Worker.Add and
// Worker.Remove while Run is active all execute on that goroutine, so the
// worker's state needs no locks. Worker.Do, Worker.Close and Worker.Stats may
// be called from any goroutine.
//
// ListenTCP and DialTCP open the sockets of RFC 6062 TCP relayed addresses:
// blocking Go sockets that share one address and port (SO_REUSEADDR and
// SO_REUSEPORT), outside any Worker.
//
// The package knows nothing of STUN, TURN or configuration files; the server
// composes it.
package datapath
