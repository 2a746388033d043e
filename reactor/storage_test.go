package reactor_test

import (
	"testing"

	"github.com/triplesync/triplesync/reactor"
	"github.com/triplesync/triplesync/reactor/reactortest"
)

func TestMemStorage(t *testing.T) {
	reactortest.TestStorage(t, func(testing.TB) (reactor.Storage, func() reactor.Storage) {
		s := reactor.NewMemStorage()
		return s, func() reactor.Storage { return s }
	})
}
