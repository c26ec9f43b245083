package credsvc_test

import "time"

// nowForTest is the start of test certificates that no fake clock checks.
func nowForTest() time.Time { return time.Now().Truncate(time.Second) }
