package metrics

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/avedge/avedge/internal/authhook"
	"github.com/avedge/avedge/internal/credsvc"
	"github.com/avedge/avedge/internal/offload"
	"github.com/avedge/avedge/internal/server/stats"
)

// Source is what a Collector reads at scrape time; *server.Server is one.
type Source interface {
	// Stats returns the relay's counters summed over its workers.
	Stats() stats.Stats
}

// CredentialSource is the credential service whose requests are
// exported; *credsvc.Server is one.
type CredentialSource interface {
	// Stats returns the service's request counts.
	Stats() credsvc.Stats
}

// RecordsSource is the session records writer whose drops and write
// failures are exported; *records.Writer is one.
type RecordsSource interface {
	// Dropped returns the number of records dropped.
	Dropped() uint64
	// WriteErrors returns the number of failed writes to the output.
	WriteErrors() uint64
}

// AuthWebhookSource is the auth webhook whose lookups are exported;
// *authhook.Client is one.
type AuthWebhookSource interface {
	// Stats returns the lookups' outcomes and latencies.
	Stats() authhook.Stats
}

// OffloadSource is the eBPF offload whose work is exported;
// *offload.Loader is one.
type OffloadSource interface {
	// Stats returns what the program did, summed over CPUs; an error
	// (the offload is closed) leaves its metrics out of the scrape.
	Stats() (offload.Stats, error)
}

// Certificate is the certificate a TLS listener serves.
type Certificate struct {
	// Listener is the listener's address.
	Listener string
	// NotAfter is when the certificate expires.
	NotAfter time.Time
}

// CertificateSource is where the TLS listeners' certificates are read at
// scrape time.
type CertificateSource interface {
	// Certificates returns the certificate of each TLS listener that
	// holds one.
	Certificates() []Certificate
}

// Options configure a Collector.
type Options struct {
	// Server is the relay whose counters are exported; required.
	Server Source
	// Credentials, if set, is the credential service running in the same
	// process; without it avedge_credential_requests_total is absent.
	Credentials CredentialSource
	// Records, if set, is the session records writer; without it
	// avedge_records_dropped_total and avedge_records_write_errors_total
	// are absent.
	Records RecordsSource
	// Certificates, if set, are the TLS listeners' certificates; without
	// it avedge_tls_certificate_not_after_seconds is absent.
	Certificates CertificateSource
	// AuthWebhook, if set, is the auth webhook; without it
	// avedge_auth_webhook_requests_total and
	// avedge_auth_webhook_duration_seconds are absent.
	AuthWebhook AuthWebhookSource
	// Offload, if set, is the eBPF offload (datapath.offload); without it
	// avedge_offload_packets_total is absent.
	Offload OffloadSource
	// Version is the value of avedge_build_info's version label.
	Version string
}

// Collector is a prometheus.Collector that reports the relay's counters.
// It reads them once per scrape; it is safe for concurrent scrapes.
type Collector struct {
	src     Source
	creds   CredentialSource
	records RecordsSource
	certs   CertificateSource
	hook    AuthWebhookSource
	offload OffloadSource
	version string
}

var _ prometheus.Collector = (*Collector)(nil)

// NewCollector returns a Collector of opts.
func NewCollector(opts Options) (*Collector, error) {
	if opts.Server == nil {
		return nil, fmt.Errorf("%w: no server", ErrBadOptions)
	}
	return &Collector{src: opts.Server, creds: opts.Credentials, records: opts.Records, certs: opts.Certificates,
		hook: opts.AuthWebhook, offload: opts.Offload, version: opts.Version}, nil
}

// Describe implements prometheus.Collector: it sends the description of
// every declared metric.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, f := range families {
		ch <- f.desc
	}
}

// Collect implements prometheus.Collector: it reads the server's counters
// once and sends them as metrics.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	st := c.src.Stats()
	emit := func(f *family, v float64, labels ...string) {
		m, err := prometheus.NewConstMetric(f.desc, f.kind, v, labels...)
		if err != nil {
			m = prometheus.NewInvalidMetric(f.desc, err)
		}
		ch <- m
	}
	u := func(n uint64) float64 { return float64(n) }

	emit(buildInfo, 1, c.version)

	for _, ts := range st.Tenants {
		for k, n := range ts.AllocationsByKind {
			kind := stats.AllocationKind(k)
			labels := []string{kind.Dialect().String(), kind.Transport().String(), kind.Relay().String(), kind.Family().String(), ts.Name}
			emit(allocations, float64(n), labels...)
			emit(allocationsCreated, u(ts.AllocationsCreated[k]), labels...)
		}
		for r, n := range ts.AllocationsEnded {
			emit(allocationsEnded, u(n), stats.EndReason(r).String(), ts.Name)
		}
	}
	for r, n := range st.Auth {
		emit(authResults, u(n), stats.AuthResult(r).String())
	}
	for c, n := range st.Refusals {
		emit(refusals, u(n), stats.RefusalCause(c).String())
	}
	for r, n := range st.ChannelBinds {
		emit(channelBinds, u(n), stats.ChannelRange(r).String())
	}
	emit(relayPorts, u(st.Ports.InUse), "in_use")
	emit(relayPorts, u(st.Ports.Reserved), "reserved")
	emit(relayPorts, u(st.Ports.Quarantined), "quarantined")
	emit(relayPortsCapacity, u(st.Ports.Capacity))
	emit(relayedPackets, u(st.ToPeerPackets), toPeer)
	emit(relayedPackets, u(st.ToClientPackets), toClient)
	emit(relayedBytes, u(st.ToPeerBytes), toPeer)
	emit(relayedBytes, u(st.ToClientBytes), toClient)
	emit(stunRequests, u(st.Requests))
	for r, n := range st.Drops {
		emit(droppedPackets, u(n), stats.DropReason(r).String())
	}

	dp := st.DataPath
	emit(socketPackets, u(dp.RxPackets), rx)
	emit(socketPackets, u(dp.TxPackets), tx)
	emit(socketBytes, u(dp.RxBytes), rx)
	emit(socketBytes, u(dp.TxBytes), tx)
	emit(socketBatches, u(dp.RxBatches), rx)
	emit(socketBatches, u(dp.TxBatches), tx)
	emit(socketErrors, u(dp.RxErrors), rx)
	emit(socketErrors, u(dp.TxErrors), tx)
	emit(socketDrops, u(dp.RxDropped), "kernel_queue_full")
	emit(socketDrops, u(dp.RxTruncated), "truncated")
	emit(socketDrops, u(dp.TxWouldBlock), "send_buffer_full")
	emit(gsoSends, u(dp.TxGSOSends))
	emit(gsoSegments, u(dp.TxGSOSegments))
	emit(gsoFallbacks, u(dp.TxGSOFallbacks))
	emit(batchDelays, u(dp.BatchDelays))

	ss := st.Stream
	emit(streamOpen, u(ss.Open))
	emit(streamAccepted, u(ss.Accepted))
	emit(streamRefused, u(ss.RefusedTotal), "total")
	emit(streamRefused, u(ss.RefusedPerSource), "per_source")
	emit(streamRefused, u(ss.RefusedRate), "rate")
	emit(streamFailed, u(ss.HandshakeFailed), "handshake_failed")
	emit(streamFailed, u(ss.NotTURN), "not_turn")
	emit(streamFailed, u(ss.FrameTooLarge), "frame_too_large")
	emit(streamFailed, u(ss.FrameTimeouts), "frame_timeout")
	emit(streamFailed, u(ss.IdleTimeouts), "idle_timeout")
	emit(streamFailed, u(ss.LifetimeExpired), "lifetime_expired")
	emit(streamFailed, u(ss.WriteTimeouts), "write_timeout")
	emit(streamProxyRefused, u(ss.ProxyUntrusted), "untrusted")
	emit(streamProxyRefused, u(ss.ProxyBadHeader), "bad_header")
	emit(streamProxyRefused, u(ss.ProxyPending), "pending_limit")

	ts := st.TCP
	emit(tcpPeerConnections, u(ts.Connects), "connect")
	emit(tcpPeerConnections, u(ts.Inbound), "inbound")
	emit(tcpConnectFailures, u(ts.ConnectFailed))
	emit(tcpRefused, u(ts.RefusedNoPermission), "no_permission")
	emit(tcpRefused, u(ts.RefusedLimit), "limit")
	emit(tcpRefused, u(ts.BindsExpired), "bind_expired")
	emit(tcpRefused, u(ts.BadBinds), "bad_bind")
	emit(tcpBound, u(ts.Bound))
	emit(tcpDataOpen, float64(ts.DataOpen))
	emit(tcpBytes, u(ts.ToPeerBytes), toPeer)
	emit(tcpBytes, u(ts.ToClientBytes), toClient)

	if c.creds != nil {
		cs := c.creds.Stats()
		for e := range cs.Requests {
			for o, n := range cs.Requests[e] {
				emit(credentialRequests, u(n), credsvc.Endpoint(e).String(), credsvc.Outcome(o).String())
			}
		}
	}
	if c.records != nil {
		emit(recordsDropped, u(c.records.Dropped()))
		emit(recordsWriteErrors, u(c.records.WriteErrors()))
	}
	if c.hook != nil {
		hs := c.hook.Stats()
		for o, n := range hs.Outcomes {
			emit(webhookRequests, u(n), authhook.Outcome(o).String())
		}
		lat := hs.Latency
		m, err := prometheus.NewConstHistogram(webhookLatency.desc, lat.Count, lat.Sum, lat.Buckets)
		if err != nil {
			m = prometheus.NewInvalidMetric(webhookLatency.desc, err)
		}
		ch <- m
	}
	if c.certs != nil {
		for _, cert := range c.certs.Certificates() {
			emit(certNotAfter, float64(cert.NotAfter.Unix()), cert.Listener)
		}
	}
	if c.offload != nil {
		if os, err := c.offload.Stats(); err == nil {
			for _, r := range []struct {
				n      uint64
				result string
			}{
				{os.ToPeer, "to_peer"}, {os.ToClient, "to_client"}, {os.Expired, "expired"}, {os.Errors, "error"},
				{os.PassPartial, "pass_partial_checksum"}, {os.PassNoChecksum, "pass_no_checksum"}, {os.PassMTU, "pass_mtu"},
				{os.PassNoNeighbour, "pass_no_neighbour"},
			} {
				emit(offloadPackets, u(r.n), r.result)
			}
		}
	}
}
