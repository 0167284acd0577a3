package server_test

import (
	"runtime/debug"
	"testing"

	"prelude/internal/server"
)

// currentGC reads the collector's settings without changing them.
func currentGC() (percent int, limit int64) {
	percent = debug.SetGCPercent(-1)
	debug.SetGCPercent(percent)
	return percent, debug.SetMemoryLimit(-1)
}

func TestTuneGC(t *testing.T) {
	p0, l0 := currentGC()
	restore := server.TuneGC(func(string) string { return "" })
	if p, l := currentGC(); p != server.GCPercent || l != server.MemoryLimit {
		t.Errorf("tuned: GOGC %d, limit %d; want %d, %d", p, l, server.GCPercent, server.MemoryLimit)
	}
	restore()
	if p, l := currentGC(); p != p0 || l != l0 {
		t.Errorf("restored: GOGC %d, limit %d; want %d, %d", p, l, p0, l0)
	}

	// The environment decides where it says something.
	restore = server.TuneGC(func(k string) string { return map[string]string{"GOGC": "150", "GOMEMLIMIT": "1GiB"}[k] })
	if p, l := currentGC(); p != p0 || l != l0 {
		t.Errorf("with GOGC and GOMEMLIMIT set: GOGC %d, limit %d; want them untouched (%d, %d)", p, l, p0, l0)
	}
	restore()
}
