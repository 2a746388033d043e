//go:build race

package reactor_test

// raceEnabled: the race detector slows the randomised tests tenfold, so
// they run fewer cases under it.
const raceEnabled = true
