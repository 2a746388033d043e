//go:build !(js && wasm)

package wasm

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/reactor"
)

var oddStrings = []string{"", "x", "<b>&</b>", "a\u2028b", `q"\`, "\x00\x1f", "é😀", "bad\xff", "reactor: disconnected"}

func randOdd(r *rand.Rand) string { return oddStrings[r.IntN(len(oddStrings))] }

// TestAppendMatchesEncodingJSON requires AppendError and AppendStatus to
// write what json.Marshal wrote for errorJSON and statusJSON.
func TestAppendMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 2000 {
		var err error
		switch r.IntN(4) {
		case 0:
			err = &reactor.ServerError{Op: randOdd(r), Status: r.IntN(3) * 200, Type: randOdd(r), Message: randOdd(r), QueryID: randOdd(r), MutationID: randOdd(r)}
		case 1:
			err = &reactor.StorageError{Op: randOdd(r), Err: errors.New(randOdd(r))}
		case 2:
			err = &DBError{DB: randOdd(r), Op: randOdd(r), Err: wrapSentinel(ErrQuotaExceeded, randOdd(r))}
		default:
			err = errors.New(randOdd(r))
		}
		got := AppendError([]byte("x"), err)
		j := errorJSON{Message: err.Error(), Kind: "client"}
		var se *reactor.ServerError
		switch {
		case errors.As(err, &se):
			j.Kind, j.Type, j.Status, j.Op, j.QueryID, j.MutationID = "server", se.Type, se.Status, se.Op, se.QueryID, se.MutationID
		case errors.As(err, new(*reactor.StorageError)) || errors.As(err, new(*DBError)):
			j.Kind = "storage"
		}
		j.Quota = errors.Is(err, ErrQuotaExceeded)
		want, jerr := json.Marshal(j)
		require.NoError(t, jerr)
		require.Equal(t, "x"+string(want), string(got))

		st := reactor.Status{State: reactor.ConnState(r.IntN(4)), SessionID: randOdd(r), Attempt: r.IntN(5) - 1}
		if r.IntN(2) == 0 {
			st.Err = errors.New(randOdd(r))
		}
		if r.IntN(2) == 0 {
			st.RetryAt = time.UnixMilli(r.Int64N(1 << 42))
		}
		sj := statusJSON{State: st.State.String(), SessionID: st.SessionID, Attempt: st.Attempt}
		if st.Err != nil {
			sj.Error = st.Err.Error()
			if len(sj.Error) > 9 && sj.Error[:9] == "reactor: " {
				sj.Error = sj.Error[9:]
			}
		}
		if !st.RetryAt.IsZero() {
			sj.RetryAt = st.RetryAt.UnixMilli()
		}
		want, jerr = json.Marshal(sj)
		require.NoError(t, jerr)
		require.Equal(t, string(want), string(AppendStatus(nil, st)))
	}
}

// oracleOptions is ParseOptions' decoding as it was.
func oracleOptions(data []byte) (Options, error) {
	var o Options
	err := json.Unmarshal(data, &o)
	return o, err
}

var optionSeeds = []string{
	``, `{`, `null`, `[]`, `"x"`, `1`, `{}`, `{"url":"ws://h/runtime/session","token":"t","createMissingAttrs":true,"minBackoffMs":5}`,
	`{"URL":"ws://h/","AppID":"a","STORAGE":"memory","MaxBackoffMs":7,"createmissingattrs":false,"other":[1,{"x":null}]}`,
	`{"url":1}`, `{"url":null,"token":null}`, `{"minBackoffMs":1.5}`, `{"minBackoffMs":"1","url":2}`, `{"maxBackoffMs":1e3}`,
	`{"maxBackoffMs":99999999999999999999}`, `{"createMissingAttrs":"yes"}`, `{"createMissingAttrs":1,"url":"ws://x"} x`,
	`{"url":"a","url":"b"}`, `{"url":{}}`, `{"url":[]}`, `{"minBackoffMs":-0}`, `{"minBackoffMs":-1}`, `{"ſtorage":"memory"}`,
}

// FuzzDecodeOptions holds decodeOptions to json.Unmarshal into Options:
// same options, same errors.
func FuzzDecodeOptions(f *testing.F) {
	for _, s := range optionSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		want, wantErr := oracleOptions(data)
		got, err := decodeOptions(data)
		if wantErr != nil {
			require.Error(t, err, "%q", data)
			require.Equal(t, wantErr.Error(), err.Error(), "%q", data)
			return
		}
		require.NoError(t, err, "%q", data)
		require.Equal(t, want, got, "%q", data)
	})
}
