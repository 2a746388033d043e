//go:build !(js && wasm)

package wasm_test

import (
	"testing"

	"github.com/triplesync/triplesync/store"
	"github.com/triplesync/triplesync/wasm"
)

// The fuzz targets run on the host only: the browser has no file system
// for the corpus.

func FuzzDecodeOps(f *testing.F) {
	f.Add([]byte(`[{"action":"update","namespace":"todos","id":"` + todoID + `","args":{"title":"Milk","done":false}}]`))
	f.Add([]byte(`[{"action":"link","namespace":"todos","id":"` + todoID + `","args":{"tags":["` + userID + `","lookup__name__\"red\""]}}]`))
	f.Add([]byte(`[{"action":"delete","namespace":"users","id":"lookup__code__42"}]`))
	f.Add([]byte(`[{"action":"merge","namespace":"todos","id":"` + todoID + `","args":{"meta":{"a":null}},"mode":"update"}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ops, err := wasm.DecodeOps(data)
		if err != nil {
			return
		}
		// Whatever decodes is something Transform can take or refuse, but
		// never panic on.
		_, _ = store.Transform(nil, ops, func() store.EntityID { return store.EntityID{9} }, store.TransformOptions{CreateMissingAttrs: true})
	})
}
