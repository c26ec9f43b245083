package metrics

// The label values of direction labels.
const (
	toPeer   = "to_peer"
	toClient = "to_client"
	rx       = "rx"
	tx       = "tx"
)

// The metrics avedge exports: the one place they are declared.
var (
	buildInfo = gauge("avedge_build_info",
		"Always 1; the version label names the running build.", "version")

	// Relay (stats.Stats).
	allocations = gauge("avedge_allocations",
		"Live allocations, by dialect (rfc, ms-turn), client transport (udp, tcp, tls, pseudo-tls), relayed transport (udp, or tcp for RFC 6062), relayed address family (ipv4, ipv6, dual) and tenant (default, or a name of the tenants section).", "dialect", "transport", "relay", "family", "tenant")
	allocationsCreated = counter("avedge_allocations_created_total",
		"Allocations created, by dialect, client transport, relayed transport, relayed address family (as given, which for a dual request may be one family) and tenant.", "dialect", "transport", "relay", "family", "tenant")
	allocationsEnded = counter("avedge_allocations_ended_total",
		"Allocations ended, by the end reason of their session records and tenant.", "reason", "tenant")
	authResults = counter("avedge_auth_results_total",
		"Authentication results of TURN requests, by result; rate-limited requests are dropped packets instead.", "result")
	refusals = counter("avedge_refusals_total",
		"Requests refused for a policy or resource reason, by cause.", "cause")
	channelBinds = counter("avedge_channel_binds_total",
		"ChannelBind requests granted, by the range of the channel number (rfc8656: 0x4000-0x4FFF; rfc5766: 0x5000-0x7FFF, which only RFC 5766 clients bind).", "range")
	relayPorts = gauge("avedge_relay_ports",
		"Relay ports taken from the pools, by state (in_use: relayed addresses; reserved: held for a RESERVATION-TOKEN; quarantined: held by another program).", "state")
	relayPortsCapacity = gauge("avedge_relay_ports_capacity",
		"Relay ports configured: the size of the port range times the relay addresses.")
	relayedPackets = counter("avedge_relayed_packets_total",
		"Payload packets relayed by UDP allocations (for clients on UDP, TCP or TLS), by direction (to_peer: client to peer; to_client: peer to client).", "direction")
	relayedBytes = counter("avedge_relayed_bytes_total",
		"Payload bytes relayed by UDP allocations (for clients on UDP, TCP or TLS), by direction (to_peer: client to peer; to_client: peer to client).", "direction")
	stunRequests = counter("avedge_stun_requests_total",
		"STUN and TURN requests handled (Binding included), error answers and retransmissions included; requests dropped unanswered count as dropped packets.")
	droppedPackets = counter("avedge_dropped_packets_total",
		"Packets discarded without an answer, by reason.", "reason")

	// Data path sockets (stats.Stats.DataPath).
	socketPackets = counter("avedge_socket_packets_total",
		"Datagrams received (rx) and sent (tx) on the UDP client and relay sockets.", "direction")
	socketBytes = counter("avedge_socket_bytes_total",
		"Bytes of the datagrams received (rx) and sent (tx) on the UDP client and relay sockets.", "direction")
	socketBatches = counter("avedge_socket_batches_total",
		"recvmmsg (rx) calls that returned datagrams and sendmmsg (tx) calls that sent queued datagrams.", "direction")
	socketErrors = counter("avedge_socket_errors_total",
		"Failed socket receives (rx) and sends (tx), other than a full socket buffer.", "direction")
	socketDrops = counter("avedge_socket_drops_total",
		"Datagrams lost at the sockets, by reason: kernel_queue_full (receive queue overflow), truncated (larger than the packet limit), send_buffer_full (a send found the socket buffer full).", "reason")
	gsoSends = counter("avedge_socket_gso_sends_total",
		"UDP_SEGMENT (GSO) sends.")
	gsoSegments = counter("avedge_socket_gso_segments_total",
		"Datagrams sent by UDP_SEGMENT (GSO) sends.")
	gsoFallbacks = counter("avedge_socket_gso_fallbacks_total",
		"UDP_SEGMENT (GSO) sends that failed and were sent again one datagram each.")
	batchDelays = counter("avedge_socket_batch_delays_total",
		"Waits of the packet workers' batch delay.")

	// TCP and TLS client connections (stats.Stats.Stream).
	streamOpen = gauge("avedge_stream_connections_open",
		"Open TCP and TLS client connections.")
	streamAccepted = counter("avedge_stream_connections_accepted_total",
		"TCP and TLS client connections accepted within the connection limits.")
	streamRefused = counter("avedge_stream_connections_refused_total",
		"TCP and TLS client connections closed at once for a connection limit (total, per_source or rate).", "limit")
	streamFailed = counter("avedge_stream_connections_failed_total",
		"TCP and TLS client connections closed by the server, by reason.", "reason")
	streamProxyRefused = counter("avedge_stream_proxy_refused_total",
		"Connections to PROXY protocol listeners closed before admission, by reason (untrusted, bad_header, pending_limit).", "reason")

	// RFC 6062 TCP relays (stats.Stats.TCP).
	tcpPeerConnections = counter("avedge_tcp_relay_peer_connections_total",
		"Peer connections of TCP relay allocations, by origin (connect: opened by a Connect request; inbound: accepted from a peer).", "origin")
	tcpConnectFailures = counter("avedge_tcp_relay_connect_failures_total",
		"Connect requests whose connection attempt failed (answered with 447).")
	tcpRefused = counter("avedge_tcp_relay_refused_total",
		"Peer connections and ConnectionBind requests refused, by reason.", "reason")
	tcpBound = counter("avedge_tcp_relay_data_connections_total",
		"Client data connections joined to a peer connection by ConnectionBind.")
	tcpDataOpen = gauge("avedge_tcp_relay_data_connections_open",
		"Open client data connections of TCP relay allocations.")
	tcpBytes = counter("avedge_tcp_relay_bytes_total",
		"Bytes relayed over TCP relay data connections, by direction, counted as each connection ends.", "direction")

	// Credential service (credsvc.Server.Stats), when it runs.
	credentialRequests = counter("avedge_credential_requests_total",
		"Requests to the credential service, by endpoint and outcome.", "endpoint", "outcome")

	// Session records (records.Writer.Dropped), when they are written.
	recordsDropped = counter("avedge_records_dropped_total",
		"Session records dropped because the writer's queue was full or it was closed.")
	// Session records (records.Writer.WriteErrors).
	recordsWriteErrors = counter("avedge_records_write_errors_total",
		"Failed writes of session records to their output (the records buffered at the time are lost).")

	// Auth webhook (authhook.Client.Stats), when auth.webhook is set.
	webhookRequests = counter("avedge_auth_webhook_requests_total",
		"Answers about usernames no local source knows, by outcome: allowed, refused (403/404), timeout and error (refused: fail closed) are lookups of the webhook; cached_allowed and cached_refused answers from its cache (a request that waited for a lookup is answered from it too); overloaded refusals without asking, too many lookups being under way.", "outcome")
	webhookLatency = histogram("avedge_auth_webhook_duration_seconds",
		"How long the auth webhook's lookups took, timeouts and failures included.")

	// TLS listeners' certificates (edge), when there are TLS listeners.
	certNotAfter = gauge("avedge_tls_certificate_not_after_seconds",
		"When the certificate a TLS listener serves expires, in seconds since the Unix epoch, by listener address.", "listener")

	// The eBPF offload (offload.Loader.Stats), when datapath.offload runs.
	offloadPackets = counter("avedge_offload_packets_total",
		"Packets the eBPF offload looked at closely (those on a bound channel's addresses), by result: relayed in the kernel (to_peer, to_client; also counted in avedge_relayed_packets_total), dropped in the kernel because the channel's permission or binding had expired (expired) or a rewrite failed half-way (error), or left to user space because their checksum was left to the NIC (pass_partial_checksum), they had no UDP checksum (pass_no_checksum), the ChannelData header would have made them too big for the egress MTU (pass_mtu) or, at XDP, the next hop's Ethernet address was not known yet (pass_no_neighbour).", "result")
)

// families lists every declared metric, in exposition order.
var families = []*family{
	buildInfo,
	allocations, allocationsCreated, allocationsEnded, authResults, refusals, channelBinds, relayPorts, relayPortsCapacity,
	relayedPackets, relayedBytes, stunRequests, droppedPackets,
	socketPackets, socketBytes, socketBatches, socketErrors, socketDrops,
	gsoSends, gsoSegments, gsoFallbacks, batchDelays,
	streamOpen, streamAccepted, streamRefused, streamFailed, streamProxyRefused,
	tcpPeerConnections, tcpConnectFailures, tcpRefused, tcpBound, tcpDataOpen, tcpBytes,
	credentialRequests, recordsDropped, recordsWriteErrors,
	webhookRequests, webhookLatency,
	certNotAfter,
	offloadPackets,
}
