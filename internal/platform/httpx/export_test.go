package httpx

import "time"

// SetSlowRequest sets the access log's slow-request threshold for a test
// and returns a function that restores it.
func SetSlowRequest(d time.Duration) (restore func()) {
	old := slowRequest
	slowRequest = d
	return func() { slowRequest = old }
}
