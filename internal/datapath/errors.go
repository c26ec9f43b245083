package datapath

import "errors"

// Sentinel errors returned (wrapped) by this package.
var (
	// ErrAddrInUse reports that bind(2) failed with EADDRINUSE
	// (WSAEADDRINUSE on Windows).
	ErrAddrInUse = errors.New("datapath: address already in use")
	// ErrAddrNotAvailable reports that bind(2) failed with EADDRNOTAVAIL, for
	// example an ::1 listener on a host without IPv6, or that the kernel
	// does not support the address family at all (EAFNOSUPPORT).
	ErrAddrNotAvailable = errors.New("datapath: address not available")
	// ErrBadAddress reports an address the package cannot use: invalid, of
	// the wrong family for the socket, or with a zone that is not a number.
	ErrBadAddress = errors.New("datapath: unusable address")
	// ErrBadOptions reports an invalid ListenConfig or WorkerOptions value.
	ErrBadOptions = errors.New("datapath: invalid options")
	// ErrWouldBlock reports that a send on the fast path found the socket
	// buffer full (EAGAIN); the datagram was not sent and the caller counts
	// the drop.
	ErrWouldBlock = errors.New("datapath: send would block")
	// ErrSend reports that a send failed for a reason other than EAGAIN;
	// the system error is available through errors.Is / errors.As.
	ErrSend = errors.New("datapath: send failed")
	// ErrSocket reports a failed socket system call outside the hot path
	// (socket, setsockopt, bind, getsockname, epoll, eventfd).
	ErrSocket = errors.New("datapath: socket system call failed")
	// ErrClosed reports use of a closed Conn or Worker.
	ErrClosed = errors.New("datapath: closed")
	// ErrBusy reports that the worker's Do queue is full.
	ErrBusy = errors.New("datapath: worker queue full")
	// ErrRunning reports a second concurrent call of Worker.Run.
	ErrRunning = errors.New("datapath: worker already running")
	// ErrAlreadyAdded reports a Conn that is already registered with a worker.
	ErrAlreadyAdded = errors.New("datapath: conn already added to a worker")
	// ErrWrongPath reports a Conn added to a Worker of another data path
	// (see ListenConfig.Portable and WorkerOptions.Portable).
	ErrWrongPath = errors.New("datapath: conn and worker run different data paths")
	// ErrNotAdded reports a Conn that is not registered with this worker.
	ErrNotAdded = errors.New("datapath: conn not added to this worker")
)
