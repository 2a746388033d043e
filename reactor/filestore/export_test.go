package filestore

// SetBeforeRename installs a hook called before each rename of a Write;
// an error stops the Write there, as a crash would.
func SetBeforeRename(s *Storage, fn func(i int) error) { s.beforeRename = fn }
