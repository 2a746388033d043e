package session

import (
	"fmt"

	"github.com/triplesync/triplesync/store"
)

// applyAttrChanges returns the registry r with the committed attribute
// changes applied, in order. It fails when the result is not a valid
// registry (the caller then reloads it from the database).
func applyAttrChanges(r *store.Attrs, changes []store.AttrChange) (*store.Attrs, error) {
	list := r.List()
	byID := make(map[store.AttrID]int, len(list))
	for i, a := range list {
		byID[a.ID] = i
	}
	for _, c := range changes {
		switch c.Op {
		case store.OpInsert, store.OpUpdate:
			if c.Op == store.OpUpdate && c.Old.ID != c.New.ID {
				if i, ok := byID[c.Old.ID]; ok {
					list[i].ID = store.AttrID{} // dropped below
					delete(byID, c.Old.ID)
				}
			}
			if i, ok := byID[c.New.ID]; ok {
				list[i] = c.New
			} else {
				byID[c.New.ID] = len(list)
				list = append(list, c.New)
			}
		case store.OpDelete:
			if i, ok := byID[c.Old.ID]; ok {
				list[i].ID = store.AttrID{}
				delete(byID, c.Old.ID)
			}
		default:
			return nil, fmt.Errorf("apply attr change: unknown op %v", c.Op)
		}
	}
	out := list[:0]
	for _, a := range list {
		if !a.ID.IsZero() {
			out = append(out, a)
		}
	}
	next, err := store.NewAttrs(out...)
	if err != nil {
		return nil, fmt.Errorf("apply attr changes: %w", err)
	}
	return next, nil
}
