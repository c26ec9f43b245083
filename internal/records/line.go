package records

import (
	"encoding/json"
	"io"
	"net/netip"
	"time"

	"github.com/avedge/avedge/internal/server/stats"
)

// timeFormat is RFC 3339 with milliseconds; times are written in UTC.
const timeFormat = "2006-01-02T15:04:05.000Z07:00"

// line is the JSON form of a record, one per line, in this field order.
// It carries the username, never a password, and the tenant of the
// credential (left out when the record names none). Kind is "end" for an
// allocation that ended (end and end_reason say when and why) and
// "interim" for one still live (end is when its totals were taken; no
// end_reason).
type line struct {
	Kind              string  `json:"kind"`
	User              string  `json:"user"`
	Identity          string  `json:"identity"`
	Tenant            string  `json:"tenant,omitempty"`
	Client            string  `json:"client"`
	Relayed           string  `json:"relayed"`
	AdditionalRelayed string  `json:"additional_relayed,omitempty"`
	Dialect           string  `json:"dialect"`
	Transport         string  `json:"transport"`
	RelayProtocol     string  `json:"relay_protocol"`
	Start             string  `json:"start"`
	End               string  `json:"end"`
	DurationS         float64 `json:"duration_s"`
	ToPeerPackets     uint64  `json:"to_peer_packets"`
	ToPeerBytes       uint64  `json:"to_peer_bytes"`
	ToClientPackets   uint64  `json:"to_client_packets"`
	ToClientBytes     uint64  `json:"to_client_bytes"`
	EndReason         string  `json:"end_reason,omitempty"`
}

// Kinds of record lines.
const (
	kindEnd     = "end"
	kindInterim = "interim"
)

// lineOf converts r to its JSON form.
func lineOf(r *stats.Record) line {
	kind := kindEnd
	if r.Interim {
		kind = kindInterim
	}
	return line{
		Kind:              kind,
		User:              r.Username,
		Identity:          r.Identity,
		Tenant:            r.Tenant,
		Client:            addrString(r.Client),
		Relayed:           addrString(r.Relayed),
		AdditionalRelayed: addrString(r.Additional),
		Dialect:           r.Dialect,
		Transport:         r.Transport,
		RelayProtocol:     r.RelayProtocol,
		Start:             r.Start.UTC().Format(timeFormat),
		End:               r.End.UTC().Format(timeFormat),
		DurationS:         float64(r.End.Sub(r.Start).Round(time.Millisecond).Milliseconds()) / 1000,
		ToPeerPackets:     r.ToPeerPackets,
		ToPeerBytes:       r.ToPeerBytes,
		ToClientPackets:   r.ToClientPackets,
		ToClientBytes:     r.ToClientBytes,
		EndReason:         r.Reason,
	}
}

// addrString formats a, or returns "" for the zero AddrPort.
func addrString(a netip.AddrPort) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// newEncoder returns the encoder of records to w: one object per line,
// without HTML escaping.
func newEncoder(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc
}
