package perm

import (
	"crypto/rsa"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/triplesync/triplesync/store"
)

// Auth is who a session or request acts as.
type Auth struct {
	// ID is the user's id (the JWT's subject); zero when anonymous.
	ID store.EntityID
	// Email is the "email" claim, when present.
	Email string
	// Claims holds every claim of the token.
	Claims map[string]any
	// Admin is set for the admin token: rules are not consulted.
	Admin bool
}

// Anonymous reports whether a carries no user.
func (a Auth) Anonymous() bool { return !a.Admin && a.ID.IsZero() }

// Context returns the permission context: the part of a that rules can
// depend on, as a string. Two sessions with equal contexts see equal results
// for the same query, so the server runs such queries once for both.
func (a Auth) Context() string {
	switch {
	case a.Admin:
		return "admin"
	case a.ID.IsZero():
		return "anon"
	}
	return "user:" + a.ID.String()
}

// celValue is auth as rules see it.
func (a Auth) celValue() map[string]any {
	m := map[string]any{"id": nil, "email": nil, "claims": map[string]any{}, "admin": a.Admin}
	if !a.ID.IsZero() {
		m["id"] = a.ID.String()
	}
	if a.Email != "" {
		m["email"] = a.Email
	}
	if a.Claims != nil {
		m["claims"] = a.Claims
	}
	return m
}

// Verifier checks users' JWTs. Set exactly one of HMACSecret (HS256) or
// RSAPublicKey (RS256). The subject claim must be the user's UUID.
type Verifier struct {
	HMACSecret   []byte
	RSAPublicKey *rsa.PublicKey
	// Issuer and Audience, when set, must match the token's.
	Issuer   string
	Audience string
	// Leeway allows for clock skew on exp and nbf.
	Leeway time.Duration
}

// Validate checks the configuration.
func (v *Verifier) Validate() error {
	if (len(v.HMACSecret) == 0) == (v.RSAPublicKey == nil) {
		return fmt.Errorf("perm: set exactly one of an HS256 secret or an RS256 public key")
	}
	return nil
}

// Verify parses and checks token at time now and returns the user it names.
func (v *Verifier) Verify(token string, now time.Time) (Auth, error) {
	method, key := "HS256", any(v.HMACSecret)
	if v.RSAPublicKey != nil {
		method, key = "RS256", v.RSAPublicKey
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{method}),
		jwt.WithTimeFunc(func() time.Time { return now }),
		jwt.WithLeeway(v.Leeway),
		jwt.WithExpirationRequired(),
	}
	if v.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(v.Issuer))
	}
	if v.Audience != "" {
		opts = append(opts, jwt.WithAudience(v.Audience))
	}
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(token, claims, func(*jwt.Token) (any, error) { return key, nil }, opts...)
	if err != nil {
		return Auth{}, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	sub, err := claims.GetSubject()
	if err != nil || sub == "" {
		return Auth{}, fmt.Errorf("%w: missing subject", ErrInvalidToken)
	}
	id, err := store.ParseEntityID(sub)
	if err != nil {
		return Auth{}, fmt.Errorf("%w: subject is not a uuid", ErrInvalidToken)
	}
	a := Auth{ID: id, Claims: map[string]any(claims)}
	if e, ok := claims["email"].(string); ok {
		a.Email = e
	}
	return a, nil
}
