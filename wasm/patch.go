package wasm

import (
	"strconv"

	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/reactor"
	"github.com/triplesync/triplesync/store"
)

// Patcher encodes one subscription's results for its JS callback, each
// as a patch against the one before when it can: a one-row change to a
// 10k-row live query then crosses to JS as that row, not as the whole
// result for JS to parse again (issue #8). The JS module applies patches
// (client/triplesync.js), keeping the unchanged row objects, so an app
// sees the same data shape either way, and unchanged rows keep their
// identity.
//
// A patch is
//
//	{"fromCache": false,
//	 "patch": {"<top label>": [[from, n], {"rows": [<row>, ...]}, ...], ...},
//	 "pageInfo": {"<top label>": {...}, ...}}
//
// where each top-level array is rebuilt from runs in order: [from, n]
// takes n rows of the previous array from index from; {"rows": [...]}
// takes new rows. A patch names every top level. Anything else
// ([AppendResult]'s whole result, an error) replaces what came before.
//
// A Patcher's zero value is ready; it is not safe for concurrent use.
type Patcher struct {
	last *query.Result // the result JS holds; nil: none
}

// Append appends what JS receives for r: a patch against the result
// appended last when r's was spliced from it by query.Update, else
// [AppendResult]'s whole result or error.
func (p *Patcher) Append(dst []byte, r reactor.QueryResult) []byte {
	prev := p.last
	p.last = nil
	if r.Error != nil || r.Result == nil {
		return AppendResult(dst, r)
	}
	p.last = r.Result
	runs := patchRuns(prev, r.Result)
	if runs == nil {
		return AppendResult(dst, r)
	}
	dst = append(dst, `{"fromCache":`...)
	dst = appendBool(dst, r.FromCache)
	dst = append(dst, `,"patch":{`...)
	for i, page := range r.Result.Tops {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = store.String(page.Level.Label).AppendJSON(dst)
		dst = append(dst, ":["...)
		at := 0 // the next entity of page the runs cover
		for k, s := range runs[i] {
			if k > 0 {
				dst = append(dst, ',')
			}
			if s.From >= 0 {
				dst = append(dst, '[')
				dst = appendInt(dst, s.From)
				dst = append(dst, ',')
				dst = appendInt(dst, s.N)
				dst = append(dst, ']')
				at += s.N
				continue
			}
			dst = append(dst, `{"rows":[`...)
			for j, e := range page.Entities[at : at+s.N] {
				if j > 0 {
					dst = append(dst, ',')
				}
				dst = e.AppendJSON(dst)
			}
			dst = append(dst, "]}"...)
			at += s.N
		}
		dst = append(dst, ']')
	}
	dst = append(dst, `},"pageInfo":{`...)
	for i, page := range r.Result.Tops {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = store.String(page.Level.Label).AppendJSON(dst)
		dst = append(dst, ':')
		dst = page.Info.AppendJSON(dst)
	}
	return append(dst, "}}"...)
}

// patchRuns returns, per top level of cur, the runs making its page from
// prev's; nil when some page was not spliced from prev's.
func patchRuns(prev, cur *query.Result) [][]query.Splice {
	if prev == nil || len(prev.Tops) != len(cur.Tops) {
		return nil
	}
	out := make([][]query.Splice, len(cur.Tops))
	for i, page := range cur.Tops {
		if page.Level.Count || prev.Tops[i].Level.Label != page.Level.Label {
			return nil
		}
		runs, ok := page.Splices(prev.Tops[i])
		if !ok {
			return nil
		}
		out[i] = runs
	}
	return out
}

func appendBool(dst []byte, b bool) []byte {
	if b {
		return append(dst, "true"...)
	}
	return append(dst, "false"...)
}

func appendInt(dst []byte, n int) []byte { return strconv.AppendInt(dst, int64(n), 10) }
