package stats

import "testing"

// TestAllocationKindAxes: every combination of the axes has its own kind,
// and each axis reads back as given.
func TestAllocationKindAxes(t *testing.T) {
	seen := make(map[AllocationKind]bool)
	for d := range NumDialects {
		for tr := range NumTransports {
			for r := range NumRelayProtocols {
				for f := range NumFamilies {
					k := KindOf(d, tr, r, f)
					if int(k) >= NumAllocationKinds || seen[k] {
						t.Fatalf("KindOf(%s, %s, %s, %s) = %d: out of range or taken", d, tr, r, f, k)
					}
					seen[k] = true
					if k.Dialect() != d || k.Transport() != tr || k.Relay() != r || k.Family() != f {
						t.Fatalf("kind %d reads %s/%s/%s/%s, want %s/%s/%s/%s", k,
							k.Dialect(), k.Transport(), k.Relay(), k.Family(), d, tr, r, f)
					}
				}
			}
		}
	}
	if len(seen) != NumAllocationKinds {
		t.Fatalf("%d kinds, want %d", len(seen), NumAllocationKinds)
	}
}

// TestLabels: the labels are the names metrics and records use, and a value
// out of range is "unknown" rather than a panic.
func TestLabels(t *testing.T) {
	for _, tc := range [][2]string{
		{DialectMSTURN.String(), "ms-turn"},
		{TransportPseudoTLS.String(), "pseudo-tls"},
		{RelayTCP.String(), "tcp"},
		{FamilyDual.String(), "dual"},
		{EndDrainTimeout.String(), "drain timeout"},
		{AuthExpiredCredential.String(), "expired_credential"},
		{RefusedRedirected.String(), "redirected"},
		{DropBadIntegrity.String(), "bad_integrity"},
		{NumDropReasons.String(), "unknown"},
		{Dialect(200).String(), "unknown"},
	} {
		if got, want := tc[0], tc[1]; got != want {
			t.Errorf("label %q, want %q", got, want)
		}
	}
}
