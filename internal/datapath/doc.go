// Package datapath holds avedge's sockets and packet loop: UDP sockets
// (Conn) and workers (Worker) that each deliver the datagrams of many
// sockets to one Handler on one goroutine, in place, with room to rewrite
// them (Headroom, Tailroom).
//
// Two data paths sit behind that one API, as in wireguard-go
// (conn/bind_std.go beside its Linux files) and tailscale:
//
//   - Linux gets the fast path (PathEpoll): non-blocking sockets driven by
//     raw system calls outside Go's netpoller; each worker owns one epoll
//     instance, reads every ready socket in batches with recvmmsg(2) into
//     one buffer slab allocated up front, and sends with sendmmsg(2), as
//     one UDP_SEGMENT send (UDP GSO) where consecutive datagrams to one
//     destination have the same size and the kernel supports it (probed
//     when the worker is created). It reads the TOS byte of each datagram
//     (ListenConfig.RecvTOS), sets it per datagram (Conn.WriteToTOS), and
//     counts the kernel's receive-queue drops (ListenConfig.RecvDrops,
//     SO_RXQ_OVFL, summed into Stats.RxDropped).
//   - macOS, FreeBSD and Windows get the portable path (PathPortable),
//     which Linux can run too (ListenConfig.Portable with
//     WorkerOptions.Portable; the tests run both there): each Conn is a
//     net.UDPConn, read by a goroutine of its own one datagram per call
//     into pooled, bounded buffers and handed to the worker goroutine;
//     sends are one datagram per call. It has no GSO, no TOS (Meta.TOS is
//     0 and WriteToTOS sends with the socket's default), no kernel drop
//     count and no BatchDelay; sends wait for room in the socket buffer
//     instead of failing with ErrWouldBlock. SO_REUSEPORT lets several
//     Conns bind one address on macOS and FreeBSD (SO_REUSEADDR on
//     Windows), but only Linux and FreeBSD spread clients over them.
//
// DefaultPath names this system's path and Worker.Path a worker's, for logs.
//
// The receive and send paths do not allocate: a fast-path worker owns its
// message headers, address and control-message buffers and packet slab,
// and Conn.WriteTo passes a raw sockaddr built on the stack to sendto(2);
// a portable worker recycles its receive buffers through a bounded pool.
//
// Handlers send with Conn.QueueTo: the worker copies each datagram into its
// send queue (allocated once) and, at the end of each round of deliveries
// (after Handler.EndRound) or when the queue is full, sends the queue (one
// sendmmsg(2) per socket on the fast path). Conn.SetDontFragment keeps the
// system from fragmenting what a socket sends, on every system.
//
// Concurrency model: a Worker runs on one goroutine (on the fast path locked
// to its OS thread). Handler callbacks, functions queued with Worker.Do, and
// Worker.Add and Worker.Remove while Run is active all execute on that
// goroutine, so the worker's state needs no locks. Worker.Do, Worker.Close
// and Worker.Stats may be called from any goroutine.
//
// ListenTCP and DialTCP open the sockets of RFC 6062 TCP relayed addresses:
// blocking Go sockets that share one address and port (SO_REUSEADDR and
// SO_REUSEPORT), outside any Worker, on every system.
//
// The package knows nothing of STUN, TURN or configuration files; the server
// composes it.
package datapath
