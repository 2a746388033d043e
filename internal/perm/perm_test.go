package perm_test

import (
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/internal/perm"
	"github.com/triplesync/triplesync/store"
)

var (
	alice = store.MustParseEntityID("a11ce000-0000-4000-8000-000000000001")
	bob   = store.MustParseEntityID("b0b00000-0000-4000-8000-000000000002")
	now   = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
)

const rulesJSON = `{
  "todos": {"allow": {
    "view":   "auth.id != null && data.owner == auth.id",
    "create": "auth.id != null && newData.owner == auth.id",
    "update": "data.owner == auth.id && newData.owner == auth.id",
    "delete": "data.owner == auth.id"
  }},
  "public": {"allow": {"view": "true", "create": "has(newData.title) && size(newData.title) < 10"}}
}`

func TestRules(t *testing.T) {
	r, err := perm.ParseRules([]byte(rulesJSON), false)
	require.NoError(t, err)
	a := perm.Auth{ID: alice}
	b := perm.Auth{ID: bob}
	own := map[string]any{"owner": alice.String(), "title": "x"}
	tests := []struct {
		name          string
		auth          perm.Auth
		ns            string
		act           perm.Action
		data, newData map[string]any
		allow         bool
	}{
		{"owner views", a, "todos", perm.View, own, nil, true},
		{"other user cannot view", b, "todos", perm.View, own, nil, false},
		{"anonymous cannot view", perm.Auth{}, "todos", perm.View, own, nil, false},
		{"admin views anything", perm.Auth{Admin: true}, "todos", perm.View, own, nil, true},
		{"create own", a, "todos", perm.Create, nil, own, true},
		{"create for someone else", b, "todos", perm.Create, nil, own, false},
		{"update keeping owner", a, "todos", perm.Update, own, own, true},
		{"update stealing", b, "todos", perm.Update, own, map[string]any{"owner": bob.String()}, false},
		{"delete own", a, "todos", perm.Delete, own, nil, true},
		{"no rule for link: denied", a, "todos", perm.Link, own, own, false},
		{"no rules for namespace: denied", a, "secrets", perm.View, nil, nil, false},
		{"missing key is an error, so deny", a, "todos", perm.View, map[string]any{}, nil, false},
		{"public view", perm.Auth{}, "public", perm.View, nil, nil, true},
		{"has() guards", a, "public", perm.Create, nil, map[string]any{}, false},
		{"size rule", a, "public", perm.Create, nil, map[string]any{"title": "short"}, true},
		{"size rule fails", a, "public", perm.Create, nil, map[string]any{"title": "far too long"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := r.Allow(tt.auth, tt.ns, tt.act, tt.data, tt.newData)
			if tt.allow {
				assert.NoError(t, err)
			} else {
				require.Error(t, err)
				assert.True(t, errors.Is(err, perm.ErrDenied), "Allow error %v, want ErrDenied", err)
				assert.Contains(t, err.Error(), string(tt.act)+" "+tt.ns)
			}
		})
	}
}

func TestRulesDefaultAllow(t *testing.T) {
	r, err := perm.ParseRules([]byte(rulesJSON), true)
	require.NoError(t, err)
	assert.NoError(t, r.Allow(perm.Auth{}, "secrets", perm.View, nil, nil), "no rule in dev mode: allowed")
	assert.Error(t, r.Allow(perm.Auth{}, "todos", perm.View, map[string]any{"owner": "x"}, nil), "an existing rule still applies in dev mode")
	assert.True(t, r.DefaultAllow())
	assert.True(t, r.HasRule("todos", perm.View))
	assert.False(t, r.HasRule("todos", perm.Link))
}

func TestParseRulesErrors(t *testing.T) {
	tests := []struct{ name, in, mention string }{
		{"not json", `{`, "unexpected EOF"},
		{"unknown field", `{"todos":{"deny":{}}}`, "deny"},
		{"unknown action", `{"todos":{"allow":{"read":"true"}}}`, "todos.allow.read: unknown action"},
		{"syntax", `{"todos":{"allow":{"view":"auth.id ==="}}}`, "todos.allow.view"},
		{"undeclared variable", `{"todos":{"allow":{"view":"user.id == 1"}}}`, "undeclared reference"},
		{"not boolean", `{"todos":{"allow":{"view":"1 + 2"}}}`, "want bool"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := perm.ParseRules([]byte(tt.in), false)
			require.Error(t, err)
			assert.True(t, errors.Is(err, perm.ErrInvalidRules), "ParseRules(%q) error %v", tt.in, err)
			assert.Contains(t, err.Error(), tt.mention)
		})
	}
	r, err := perm.ParseRules(nil, false)
	require.NoError(t, err, "an empty file is no rules")
	assert.Error(t, r.Allow(perm.Auth{ID: alice}, "todos", perm.View, nil, nil))
}

func sign(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	require.NoError(t, err)
	return s
}

func TestVerifyHS256(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	v := &perm.Verifier{HMACSecret: secret}
	require.NoError(t, v.Validate())
	good := jwt.MapClaims{"sub": alice.String(), "email": "a@example.com", "exp": now.Add(time.Hour).Unix()}
	a, err := v.Verify(sign(t, jwt.SigningMethodHS256, secret, good), now)
	require.NoError(t, err)
	assert.Equal(t, alice, a.ID)
	assert.Equal(t, "a@example.com", a.Email)
	assert.Equal(t, "user:"+alice.String(), a.Context())

	bad := []struct {
		name  string
		token string
	}{
		{"expired", sign(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": alice.String(), "exp": now.Add(-time.Hour).Unix()})},
		{"no exp", sign(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": alice.String()})},
		{"other secret", sign(t, jwt.SigningMethodHS256, []byte("another-secret-another-secret-00"), good)},
		{"alg HS512", sign(t, jwt.SigningMethodHS512, secret, good)},
		{"no subject", sign(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"exp": now.Add(time.Hour).Unix()})},
		{"subject not a uuid", sign(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": "alice", "exp": now.Add(time.Hour).Unix()})},
		{"garbage", "not.a.jwt"},
		{"alg none", sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, good)},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v.Verify(tt.token, now)
			require.Error(t, err)
			assert.True(t, errors.Is(err, perm.ErrInvalidToken), "Verify error %v", err)
		})
	}
}

func TestVerifyRS256(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	v := &perm.Verifier{RSAPublicKey: &key.PublicKey, Issuer: "https://auth.example", Audience: "triplesync"}
	claims := jwt.MapClaims{"sub": bob.String(), "exp": now.Add(time.Minute).Unix(), "iss": "https://auth.example", "aud": "triplesync"}
	a, err := v.Verify(sign(t, jwt.SigningMethodRS256, key, claims), now)
	require.NoError(t, err)
	assert.Equal(t, bob, a.ID)

	claims["aud"] = "someone-else"
	_, err = v.Verify(sign(t, jwt.SigningMethodRS256, key, claims), now)
	assert.ErrorIs(t, err, perm.ErrInvalidToken)

	// An HS256 token signed with the public key's bytes must not pass (key confusion).
	_, err = v.Verify(sign(t, jwt.SigningMethodHS256, []byte("whatever-whatever-whatever-00000"), claims), now)
	assert.ErrorIs(t, err, perm.ErrInvalidToken)

	assert.Error(t, (&perm.Verifier{}).Validate())
	assert.Error(t, (&perm.Verifier{HMACSecret: []byte("x"), RSAPublicKey: &key.PublicKey}).Validate())
}

func TestAuthContext(t *testing.T) {
	assert.Equal(t, "anon", perm.Auth{}.Context())
	assert.Equal(t, "admin", perm.Auth{Admin: true}.Context())
	assert.True(t, perm.Auth{}.Anonymous())
	assert.False(t, perm.Auth{Admin: true}.Anonymous())
}
