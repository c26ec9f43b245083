package edge

import (
	"cmp"
	"slices"

	"github.com/avedge/avedge/internal/metrics"
)

// listenerCertificates reports the certificates the TLS listeners of an
// edge serve, for /metrics (metrics.CertificateSource).
type listenerCertificates struct{ e *Edge }

// Certificates implements metrics.CertificateSource: one entry per TLS
// listener that holds a certificate, by address.
func (c listenerCertificates) Certificates() []metrics.Certificate {
	c.e.mu.Lock()
	defer c.e.mu.Unlock()
	out := make([]metrics.Certificate, 0, len(c.e.live.certs))
	for addr, store := range c.e.live.certs {
		if cert, err := store.GetCertificate(nil); err == nil && cert.Leaf != nil {
			out = append(out, metrics.Certificate{Listener: addr.String(), NotAfter: cert.Leaf.NotAfter})
		}
	}
	slices.SortFunc(out, func(a, b metrics.Certificate) int { return cmp.Compare(a.Listener, b.Listener) })
	return out
}
