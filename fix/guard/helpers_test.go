package guard

import (
	"fmt"
	"strings"
	"time"
)

// sohs turns the readable '|' into SOH.
func sohs(s string) string { return strings.ReplaceAll(s, "|", "\x01") }

// readable turns SOH into '|' for messages.
func readable(b []byte) string { return strings.ReplaceAll(string(b), "\x01", "|") }

// frameOf wraps a body ("35=0|34=2|...|", '|' for SOH) in BeginString,
// a correct BodyLength and a correct CheckSum.
func frameOf(body string) []byte {
	body = sohs(body)
	head := fmt.Sprintf("8=FIX.4.4\x019=%d\x01", len(body))
	return withChecksum(head + body)
}

// withChecksum appends "10=nnn|" computed over s.
func withChecksum(s string) []byte {
	return []byte(s + fmt.Sprintf("10=%03d\x01", checksum([]byte(s))))
}

// rawFrame is head+body+trailer exactly as given, '|' for SOH.
func rawFrame(s string) []byte { return []byte(sohs(s)) }

// fixedNow, when set, is what now returns (for stable fuzz seeds).
var fixedNow string

// now is a SendingTime value.
func now() string {
	if fixedNow != "" {
		return fixedNow
	}
	return time.Now().UTC().Format("20060102-15:04:05.000")
}
