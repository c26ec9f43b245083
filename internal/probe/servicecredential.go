package probe

import (
	"context"
	"fmt"

	"github.com/avedge/avedge/internal/clock"
	"github.com/avedge/avedge/internal/credsvc"
)

// ServiceCredential asks avedge's credential service for a credential
// (POST /v1/credentials over mutual TLS), as "avedge creds request" does.
type ServiceCredential struct {
	// Client is the service's client.
	Client *credsvc.Client
	// Service names the service in the report.
	Service string
	// Identity is the user the credential is for.
	Identity string
	// Clock tells the local time; nil means the wall clock.
	Clock clock.Clock
}

// Credential implements CredentialSource. The issuer's clock is estimated
// from the credential's expiry less its TTL.
func (s ServiceCredential) Credential(ctx context.Context) (*Credential, error) {
	clk := s.Clock
	if clk == nil {
		clk = clock.Real{}
	}
	c, err := s.Client.Credentials(ctx, credsvc.Request{Identity: s.Identity})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCredential, err)
	}
	return &Credential{Username: c.Username, Password: c.Password, URIs: c.URIs,
		IssuerTime: issuedAt(c.Username, c.TTL), LocalTime: clk.Now(), Source: s.Service}, nil
}
