package guard

import (
	"errors"
	"strings"
	"testing"
)

const hdr = "35=0|34=2|49=A|52=20260101-12:00:00.000|56=VENUE|"

func TestValidateRules(t *testing.T) {
	tests := []struct {
		name   string
		frame  []byte
		want   error // nil or one of the Err* rules
		tag    int
		action Action
	}{
		// Valid frames.
		{name: "heartbeat", frame: frameOf(hdr)},
		{name: "logon", frame: frameOf("35=A|34=1|49=A|52=20260101-12:00:00|56=VENUE|98=0|108=30|141=Y|553=A|554=secret|")},
		{name: "timestamp micros", frame: frameOf("35=0|34=2|49=A|52=20260101-12:00:00.123456|56=VENUE|")},
		{name: "timestamp nanos", frame: frameOf("35=0|34=2|49=A|52=20260101-12:00:00.123456789|56=VENUE|")},
		{name: "possdup resend", frame: frameOf("35=D|34=3|43=Y|49=A|52=20260101-12:00:00|56=VENUE|97=N|122=20260101-11:59:59|11=x|")},
		{name: "resend request", frame: frameOf("35=2|34=2|49=A|52=20260101-12:00:00|56=VENUE|7=1|16=0|")},
		{name: "sequence reset", frame: frameOf("35=4|34=2|49=A|52=20260101-12:00:00|56=VENUE|123=Y|36=10|")},
		{name: "xml data with SOH inside", frame: frameOf("35=n|34=2|49=A|52=20260101-12:00:00|56=VENUE|212=8|213=<a>|</a>|")},
		{name: "xml data with 10= inside", frame: frameOf("35=n|34=2|49=A|52=20260101-12:00:00|56=VENUE|212=12|213=<a>|10=1|</a|")},
		{name: "empty xml data", frame: frameOf(hdr + "212=0|213=|")},
		{name: "raw data", frame: frameOf(hdr + "95=3|96=a=b|")},
		{name: "every length field", frame: frameOf(hdr + "90=1|91=a|95=1|96=a|348=1|349=a|350=1|351=a|352=1|353=a|354=1|355=a|356=1|357=a|358=1|359=a|360=1|361=a|362=1|363=a|364=1|365=a|445=1|446=a|618=1|619=a|621=1|622=a|93=1|89=a|")},
		{name: "value with equals", frame: frameOf(hdr + "58=a=b=c|")},
		{name: "empty plain value", frame: frameOf(hdr + "58=|")},
		{name: "int value with leading zeros", frame: frameOf("35=0|34=0002|49=A|52=20260101-12:00:00|56=VENUE|")},
		{name: "nine digit tag", frame: frameOf(hdr + "123456789=x|")},
		{name: "BodyLength with leading zero", frame: rawFrame(string(withChecksum(sohs("8=FIX.4.4|9=049|" + hdr))))},

		// Forwarded: quickfixgo answers with a Reject.
		{name: "tag zero", frame: frameOf(hdr + "0=HI|"), want: ErrTagNotPositive, tag: 0, action: Forward},
		{name: "negative tag", frame: frameOf(hdr + "-1=HI|"), want: ErrTagNotPositive, tag: -1, action: Forward},
		{name: "negative tag then a cut", frame: frameOf(hdr + "-1=HI|108=|"), want: ErrEmptyValue, tag: 108, action: Cut},
		{name: "negative tag then a bad checksum", frame: badChecksum(frameOf(hdr + "-1=HI|")), want: ErrBadChecksum, tag: 10, action: Drop},

		// Dropped: garbled, FIX ignores them.
		{name: "bad checksum", frame: badChecksum(frameOf(hdr)), want: ErrBadChecksum, tag: 10, action: Drop},
		{name: "checksum 256", frame: rawFrame(sohs("8=FIX.4.4|9=49|" + hdr + "10=256|")), want: ErrBadChecksum, tag: 10, action: Drop},
		{name: "checksum two digits", frame: rawFrame(sohs("8=FIX.4.4|9=49|" + hdr + "10=12|")), want: ErrChecksumFormat, tag: 10, action: Drop},
		{name: "checksum four digits", frame: rawFrame(sohs("8=FIX.4.4|9=49|" + hdr + "10=1234|")), want: ErrChecksumFormat, tag: 10, action: Drop},
		{name: "checksum not digits", frame: rawFrame(sohs("8=FIX.4.4|9=49|" + hdr + "10=abc|")), want: ErrChecksumFormat, tag: 10, action: Drop},
		{name: "empty checksum", frame: rawFrame(sohs("8=FIX.4.4|9=49|" + hdr + "10=|")), want: ErrChecksumFormat, tag: 10, action: Drop},
		{name: "BodyLength too short", frame: rawFrame(string(withChecksum(sohs("8=FIX.4.4|9=30|" + hdr)))), want: ErrBodyLengthMismatch, tag: 9, action: Drop},
		{name: "MsgType not third", frame: frameOf("34=2|35=0|49=A|52=20260101-12:00:00|56=VENUE|"), want: ErrMsgTypeOrder, tag: 34, action: Drop},
		{name: "field without equals", frame: frameOf(hdr + "garbled|"), want: ErrBadField, action: Drop},
		{name: "tag with letters", frame: frameOf(hdr + "4garbled9=TW|"), want: ErrBadField, action: Drop},
		{name: "empty tag", frame: frameOf(hdr + "=x|"), want: ErrBadField, action: Drop},
		{name: "lone minus tag", frame: frameOf(hdr + "-=x|"), want: ErrBadField, action: Drop},
		{name: "plus tag", frame: frameOf(hdr + "+34=2|"), want: ErrBadField, action: Drop},

		// Cut: quickfixgo would crash, stall or misread.
		{name: "empty MsgSeqNum", frame: frameOf("35=0|34=|49=A|52=20260101-12:00:00|56=VENUE|"), want: ErrEmptyValue, tag: 34, action: Cut},
		{name: "negative MsgSeqNum", frame: frameOf("35=0|34=-2|49=A|52=20260101-12:00:00|56=VENUE|"), want: ErrBadInt, tag: 34, action: Cut},
		{name: "MsgSeqNum with sign", frame: frameOf("35=0|34=+2|49=A|52=20260101-12:00:00|56=VENUE|"), want: ErrBadInt, tag: 34, action: Cut},
		{name: "MsgSeqNum 19 digits", frame: frameOf("35=0|34=1234567890123456789|49=A|52=20260101-12:00:00|56=VENUE|"), want: ErrBadInt, tag: 34, action: Cut},
		{name: "MsgSeqNum 18 digits", frame: frameOf("35=0|34=123456789012345678|49=A|52=20260101-12:00:00|56=VENUE|")},
		{name: "empty BeginSeqNo", frame: frameOf("35=2|34=2|49=A|52=20260101-12:00:00|56=VENUE|7=|16=0|"), want: ErrEmptyValue, tag: 7, action: Cut},
		{name: "negative BeginSeqNo", frame: frameOf("35=2|34=2|49=A|52=20260101-12:00:00|56=VENUE|7=-9223372036854775807|16=0|"), want: ErrBadInt, tag: 7, action: Cut},
		{name: "empty EndSeqNo", frame: frameOf("35=2|34=2|49=A|52=20260101-12:00:00|56=VENUE|7=1|16=|"), want: ErrEmptyValue, tag: 16, action: Cut},
		{name: "empty NewSeqNo", frame: frameOf("35=4|34=2|49=A|52=20260101-12:00:00|56=VENUE|36=|"), want: ErrEmptyValue, tag: 36, action: Cut},
		{name: "empty HeartBtInt", frame: frameOf("35=A|34=1|49=A|52=20260101-12:00:00|56=VENUE|98=0|108=|"), want: ErrEmptyValue, tag: 108, action: Cut},
		{name: "empty NextExpectedMsgSeqNum", frame: frameOf("35=A|34=1|49=A|52=20260101-12:00:00|56=VENUE|98=0|108=30|789=|"), want: ErrEmptyValue, tag: 789, action: Cut},
		{name: "empty MaxMessageSize", frame: frameOf(hdr + "383=|"), want: ErrEmptyValue, tag: 383, action: Cut},
		{name: "empty PossDupFlag", frame: frameOf("35=0|34=2|43=|49=A|52=20260101-12:00:00|56=VENUE|"), want: ErrEmptyValue, tag: 43, action: Cut},
		{name: "PossDupFlag yes", frame: frameOf("35=0|34=2|43=yes|49=A|52=20260101-12:00:00|56=VENUE|"), want: ErrBadBoolean, tag: 43, action: Cut},
		{name: "PossResend 1", frame: frameOf("35=0|34=2|49=A|52=20260101-12:00:00|56=VENUE|97=1|"), want: ErrBadBoolean, tag: 97, action: Cut},
		{name: "GapFillFlag lower case", frame: frameOf("35=4|34=2|49=A|52=20260101-12:00:00|56=VENUE|123=y|36=5|"), want: ErrBadBoolean, tag: 123, action: Cut},
		{name: "ResetSeqNumFlag empty", frame: frameOf("35=A|34=1|49=A|52=20260101-12:00:00|56=VENUE|98=0|108=30|141=|"), want: ErrEmptyValue, tag: 141, action: Cut},
		{name: "empty SendingTime", frame: frameOf("35=0|34=2|49=A|52=|56=VENUE|"), want: ErrEmptyValue, tag: 52, action: Cut},
		{name: "SendingTime ISO", frame: frameOf("35=0|34=2|49=A|52=2026-01-01T12:00:00Z|56=VENUE|"), want: ErrBadTimestamp, tag: 52, action: Cut},
		{name: "SendingTime month 13", frame: frameOf("35=0|34=2|49=A|52=20261301-12:00:00|56=VENUE|"), want: ErrBadTimestamp, tag: 52, action: Cut},
		{name: "SendingTime two fraction digits", frame: frameOf("35=0|34=2|49=A|52=20260101-12:00:00.12|56=VENUE|"), want: ErrBadTimestamp, tag: 52, action: Cut},
		{name: "OrigSendingTime bad", frame: frameOf("35=0|34=2|43=Y|49=A|52=20260101-12:00:00|56=VENUE|122=yesterday|"), want: ErrBadTimestamp, tag: 122, action: Cut},
		{name: "tag with leading zero", frame: frameOf("35=0|034=|49=A|52=20260101-12:00:00|56=VENUE|"), want: ErrTagNotCanonical, action: Cut},
		{name: "tag that wraps to 34", frame: frameOf(hdr + "18446744073709551650=|"), want: ErrTagNotCanonical, action: Cut},
		{name: "negative tag that wraps to 34", frame: frameOf(hdr + "-18446744073709551582=|"), want: ErrTagNotCanonical, action: Cut},
		{name: "minus zero tag", frame: frameOf(hdr + "-0=x|"), want: ErrTagNotCanonical, action: Cut},
		{name: "ten digit tag", frame: frameOf(hdr + "1234567890=x|"), want: ErrTagNotCanonical, action: Cut},
		{name: "second BodyLength", frame: frameOf(hdr + "9=|"), want: ErrMisplacedTag, tag: 9, action: Cut},
		{name: "second BeginString", frame: frameOf(hdr + "8=FIX.4.2|"), want: ErrMisplacedTag, tag: 8, action: Cut},
		{name: "CheckSum inside", frame: frameOf(hdr + "10=000|58=x|"), want: ErrMisplacedTag, tag: 10, action: Cut},
		{name: "huge XmlDataLen", frame: frameOf(hdr + "212=999999|213=<a/>|"), want: ErrBadLength, tag: 212, action: Cut},
		{name: "XmlDataLen past the frame", frame: frameOf(hdr + "212=10|213=<a/>|"), want: ErrBadLength, tag: 212, action: Cut},
		{name: "XmlDataLen 8 digits", frame: frameOf(hdr + "212=00000005|213=<a/>|"), want: ErrBadLength, tag: 212, action: Cut},
		{name: "empty XmlDataLen", frame: frameOf(hdr + "212=|213=<a/>|"), want: ErrEmptyValue, tag: 212, action: Cut},
		{name: "negative XmlDataLen", frame: frameOf(hdr + "212=-1|213=<a/>|"), want: ErrBadLength, tag: 212, action: Cut},
		{name: "XmlDataLen short of its data", frame: frameOf(hdr + "212=2|213=abX5=c|"), want: ErrDataField, tag: 212, action: Cut},
		{name: "XmlDataLen long of its data", frame: frameOf(hdr + "212=3|213=ab|58=x|"), want: ErrDataField, tag: 212, action: Cut},
		{name: "XmlDataLen without XmlData", frame: frameOf(hdr + "212=1|58=x|"), want: ErrDataField, tag: 212, action: Cut},
		{name: "XmlDataLen last", frame: frameOf(hdr + "212=1|"), want: ErrBadLength, tag: 212, action: Cut},
		{name: "RawData with SOH", frame: frameOf(hdr + "95=6|96=a|34=||"), want: ErrDataField, tag: 95, action: Cut},
		{name: "RawDataLength wrong", frame: frameOf(hdr + "95=2|96=abc|"), want: ErrDataField, tag: 95, action: Cut},
		{name: "EncodedTextLen empty", frame: frameOf(hdr + "354=|355=x|"), want: ErrEmptyValue, tag: 354, action: Cut},
		{name: "SignatureLength wrong data tag", frame: frameOf(hdr + "93=1|96=a|"), want: ErrDataField, tag: 93, action: Cut},
		{name: "EncodedLegSecurityDescLen huge", frame: frameOf(hdr + "621=9999999|622=x|"), want: ErrBadLength, tag: 621, action: Cut},

		// Framing.
		{name: "BeginString FIX.4.2", frame: withChecksum(sohs("8=FIX.4.2|9=49|" + hdr)), want: ErrBeginString, tag: 8, action: Forward},
		{name: "BeginString FIXT", frame: withChecksum(sohs("8=FIXT.1.1|9=49|" + hdr)), want: ErrBeginString, tag: 8, action: Forward},
		{name: "empty BeginString", frame: withChecksum(sohs("8=|9=49|" + hdr)), want: ErrBeginString, tag: 8, action: Forward},
		{name: "BeginString FIX.4.2 and a bad checksum", frame: badChecksum(withChecksum(sohs("8=FIX.4.2|9=49|" + hdr))), want: ErrBadChecksum, tag: 10, action: Drop},
		{name: "BeginString FIX.4.2 and a crasher", frame: withChecksum(sohs("8=FIX.4.2|9=48|35=0|34=|49=A|52=20260101-12:00:00.000|56=VENUE|")), want: ErrEmptyValue, tag: 34, action: Cut},
		{name: "BeginString without SOH", frame: rawFrame("8=FIX.4.4.4.4.4.4.4.4.4|9=5|35=0|10=000|"), want: ErrBeginString, tag: 8, action: Cut},
		{name: "BeginString FIX.4.2 and a tag zero", frame: withChecksum(sohs("8=FIX.4.2|9=53|" + hdr + "0=x|")), want: ErrBeginString, tag: 8, action: Forward},
		{name: "empty BodyLength", frame: withChecksum(sohs("8=FIX.4.4|9=|" + hdr)), want: ErrBodyLength, tag: 9, action: Cut},
		{name: "BodyLength zero", frame: withChecksum(sohs("8=FIX.4.4|9=0|" + hdr)), want: ErrBodyLength, tag: 9, action: Cut},
		{name: "negative BodyLength", frame: withChecksum(sohs("8=FIX.4.4|9=-49|" + hdr)), want: ErrBodyLength, tag: 9, action: Cut},
		{name: "BodyLength 8 digits", frame: withChecksum(sohs("8=FIX.4.4|9=00000049|" + hdr)), want: ErrBodyLength, tag: 9, action: Cut},
		{name: "huge BodyLength", frame: rawFrame("8=FIX.4.4|9=9223372036854775800|35=0|10=000|"), want: ErrBodyLength, tag: 9, action: Cut},
		{name: "BodyLength above the limit", frame: rawFrame("8=FIX.4.4|9=65537|35=0|10=000|"), want: ErrBodyLengthTooLarge, tag: 9, action: Cut},
		{name: "MsgType second", frame: withChecksum(sohs("8=FIX.4.4|35=0|9=43|34=2|49=A|52=20260101-12:00:00.000|56=VENUE|")), want: ErrBodyLength, tag: 9, action: Cut},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(tt.frame, Options{})
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate(%q) = %v, want nil", readable(tt.frame), err)
				}
				return
			}
			var fe *FrameError
			if !errors.As(err, &fe) {
				t.Fatalf("Validate(%q) = %v, want %v", readable(tt.frame), err, tt.want)
			}
			if !errors.Is(err, tt.want) || fe.Tag != tt.tag || fe.Action != tt.action {
				t.Fatalf("Validate(%q) = %v (tag %d, %v), want %v (tag %d, %v)",
					readable(tt.frame), err, fe.Tag, fe.Action, tt.want, tt.tag, tt.action)
			}
		})
	}
}

func badChecksum(f []byte) []byte {
	out := append([]byte(nil), f...)
	d := &out[len(out)-2] // last checksum digit
	*d = '0' + (*d-'0'+1)%10
	return out
}

func TestOptionsLimits(t *testing.T) {
	body := hdr + "58=" + strings.Repeat("x", 1000) + "|"
	f := frameOf(body)
	if err := Validate(f, Options{MaxBodyLength: 2000}); err != nil {
		t.Fatalf("under the limit: %v", err)
	}
	if err := Validate(f, Options{MaxBodyLength: 1000}); !errors.Is(err, ErrBodyLengthTooLarge) {
		t.Fatalf("over the limit: got %v, want ErrBodyLengthTooLarge", err)
	}
	big := frameOf(hdr + "58=" + strings.Repeat("x", 70_000) + "|")
	if err := Validate(big, Options{}); !errors.Is(err, ErrBodyLengthTooLarge) {
		t.Fatalf("default limit: got %v, want ErrBodyLengthTooLarge", err)
	}
	if err := Validate(big, Options{MaxBodyLength: 1 << 30}); err != nil {
		t.Fatalf("limit lowered to seven digits still fits 70 KB: %v", err)
	}
	if got := (Options{MaxBodyLength: 1 << 30}).withDefaults().MaxBodyLength; got != maxBodyLengthLimit {
		t.Fatalf("MaxBodyLength clamp = %d, want %d", got, maxBodyLengthLimit)
	}
}

func TestErrorMessage(t *testing.T) {
	err := Validate(frameOf("35=0|34=|49=A|52=20260101-12:00:00|56=VENUE|"), Options{})
	want := "fix guard: tag 34 at offset 20: empty value in a field quickfixgo parses"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %q", err, want)
	}
}
