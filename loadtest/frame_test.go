package loadtest

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

// fix turns a readable "35=A|49=X|" body into SOH-separated bytes.
func fix(s string) []byte { return []byte(strings.ReplaceAll(s, "|", "\x01")) }

func TestFrameBody(t *testing.T) {
	// A Heartbeat whose checksum was computed by hand: the sum of every
	// byte of "8=FIX.4.4|9=5|35=0|" with SOH as 1.
	got := frameBody(nil, fix("35=0|"))
	sum := 0
	for _, c := range fix("8=FIX.4.4|9=5|35=0|") {
		sum += int(c)
	}
	want := fix("8=FIX.4.4|9=5|35=0|10=" + pad3(sum%256) + "|")
	if !bytes.Equal(got, want) {
		t.Fatalf("frameBody = %q, want %q", got, want)
	}
}

func pad3(n int) string {
	return string([]byte{byte('0' + n/100), byte('0' + n/10%10), byte('0' + n%10)})
}

func TestParseFrame(t *testing.T) {
	good := frameBody(nil, fix("35=8|49=VENUE|56=FIRM_A|34=2|11=abc|150=0|39=0|58=a=b|"))
	badSum := append([]byte(nil), good...)
	badSum[len(badSum)-2] ^= 1 // last checksum digit, still a digit
	if badSum[len(badSum)-2] < '0' || badSum[len(badSum)-2] > '9' {
		badSum[len(badSum)-2] = '0'
	}
	tests := []struct {
		name    string
		in      []byte
		wantN   int
		wantErr error
	}{
		{name: "whole frame", in: good, wantN: len(good)},
		{name: "frame then more", in: append(append([]byte(nil), good...), "8=FI"...), wantN: len(good)},
		{name: "empty", in: nil},
		{name: "prefix only", in: []byte("8=FIX.4")},
		{name: "half a frame", in: good[:len(good)/2]},
		{name: "all but the last byte", in: good[:len(good)-1]},
		{name: "wrong begin string", in: fix("8=FIX.4.2|9=5|35=0|10=000|"), wantErr: errGarbled},
		{name: "garbage", in: []byte("hello world, this is not fix"), wantErr: errGarbled},
		{name: "body length not a number", in: fix("8=FIX.4.4|9=x|35=0|10=000|"), wantErr: errGarbled},
		{name: "body length too big", in: fix("8=FIX.4.4|9=9999999|"), wantErr: errGarbled},
		{name: "body length empty", in: fix("8=FIX.4.4|9=|35=0|10=000|"), wantErr: errGarbled},
		{name: "body length leading zero", in: fix("8=FIX.4.4|9=05|35=0|10=000|"), wantErr: errGarbled},
		{name: "body length zero", in: fix("8=FIX.4.4|9=0|10=000|"), wantErr: errGarbled},
		{name: "body length short of the body", in: fix("8=FIX.4.4|9=4|35=0|10=000|"), wantErr: errGarbled},
		{name: "first field not 35", in: frameBody(nil, fix("49=X|35=0|")), wantErr: errGarbled},
		{name: "empty msg type", in: frameBody(nil, fix("35=|")), wantErr: errGarbled},
		{name: "field without =", in: frameBody(nil, fix("35=0|49|")), wantErr: errGarbled},
		{name: "tag not a number", in: frameBody(nil, fix("35=0|4x=1|")), wantErr: errGarbled},
		{name: "tag zero", in: frameBody(nil, fix("35=0|0=1|")), wantErr: errGarbled},
		{name: "tag leading zero", in: frameBody(nil, fix("35=0|049=1|")), wantErr: errGarbled},
		{name: "checksum not digits", in: fix("8=FIX.4.4|9=5|35=0|10=0x0|"), wantErr: errGarbled},
		{name: "no trailer", in: fix("8=FIX.4.4|9=5|35=0|11=abcd|"), wantErr: errGarbled},
		{name: "bad checksum", in: badSum, wantN: len(good), wantErr: errChecksum},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var m message
			n, err := parseFrame(tc.in, &m)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if n != tc.wantN {
				t.Fatalf("n = %d, want %d", n, tc.wantN)
			}
		})
	}

	var m message
	if _, err := parseFrame(good, &m); err != nil {
		t.Fatal(err)
	}
	if got := string(m.msgType()); got != "8" {
		t.Errorf("msgType = %q", got)
	}
	for tag, want := range map[int]string{11: "abc", 150: "0", 34: "2", 58: "a=b"} {
		if got := string(m.get(tag)); got != want {
			t.Errorf("get(%d) = %q, want %q", tag, got, want)
		}
	}
	if m.get(44) != nil {
		t.Errorf("get(44) = %q, want nil", m.get(44))
	}
}

// TestEncoderRoundTrip: what the client sends parses back to the same
// fields, header first.
func TestEncoderRoundTrip(t *testing.T) {
	e := encoder{sender: "FIRM_A", target: "VENUE", seq: 7}
	at := time.Date(2026, 3, 4, 5, 6, 7, 890_123_456, time.UTC)
	e.begin("D", at)
	e.body = appendStr(e.body, 11, "id-1")
	e.body = appendInt(e.body, 38, 42)
	frame := append([]byte(nil), e.finish()...)
	var m message
	n, err := parseFrame(frame, &m)
	if err != nil || n != len(frame) {
		t.Fatalf("parseFrame(%q) = %d, %v", frame, n, err)
	}
	want := "35=D|49=FIRM_A|56=VENUE|34=7|52=20260304-05:06:07.890|11=id-1|38=42|"
	if got := formatFields(&m); got != want {
		t.Fatalf("fields = %s, want %s", got, want)
	}
	if e.seq != 8 {
		t.Fatalf("seq = %d, want 8", e.seq)
	}
}

// FuzzParseFrame: the parser never panics, never reads past what it
// claims, and a frame it accepts is re-encoded byte for byte from its
// fields.
func FuzzParseFrame(f *testing.F) {
	f.Add(frameBody(nil, fix("35=8|49=VENUE|56=FIRM_A|34=2|11=abc|150=0|39=0|")))
	f.Add(frameBody(nil, fix("35=0|")))
	f.Add(fix("8=FIX.4.4|9=5|35=0|10=000|"))
	f.Add(fix("8=FIX.4.4|9=99999|"))
	f.Add([]byte("8=FIX.4.4\x019="))
	f.Add(append(frameBody(nil, fix("35=1|112=x|")), frameBody(nil, fix("35=5|58=bye|"))...))
	f.Fuzz(func(t *testing.T, b []byte) {
		var m message
		n, err := parseFrame(b, &m)
		if n < 0 || n > len(b) {
			t.Fatalf("n = %d of %d bytes", n, len(b))
		}
		if err != nil || n == 0 {
			return
		}
		var body []byte
		for _, fl := range m.fields {
			body = appendBytes(body, fl.tag, fl.val)
		}
		if again := frameBody(nil, body); !bytes.Equal(again, b[:n]) {
			t.Fatalf("re-encoded %q, parsed from %q", again, b[:n])
		}
	})
}
