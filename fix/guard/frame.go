package guard

import "bytes"

// fieldKind is how the guard checks a field's value.
type fieldKind uint8

const (
	plain       fieldKind = iota // any value, quickfixgo does not parse it before validation
	structural                   // 8, 9, 10: only at their fixed places
	uintField                    // an integer quickfixgo reads with atoi, which panics on ""
	boolField                    // Y or N
	timeField                    // UTCTimestamp
	lengthField                  // a LENGTH followed by its DATA field
)

// kindOf classifies a tag. The integer fields are the ones quickfixgo v0.9.10
// reads as FIXInt in its session layer, before any data-dictionary
// validation (an empty value panics in atoi, fix_int.go:34; a negative
// BeginSeqNo spins the resend loop): MsgSeqNum (34, session.go:661),
// BeginSeqNo and EndSeqNo (7, 16, in_session.go:188/195), NewSeqNo (36,
// in_session.go:162), HeartBtInt (108, session.go:532),
// NextExpectedMsgSeqNum (789, session.go:549), and MaxMessageSize (383,
// the one LENGTH field without data). The length fields are every FIX 4.4
// field of type LENGTH that announces a DATA field; quickfixgo reads
// XmlDataLen (212) itself (message.go:272) and slices by it.
func kindOf(tag int) (fieldKind, int) {
	switch tag {
	case 8, 9, 10:
		return structural, 0
	case 7, 16, 34, 36, 108, 383, 789:
		return uintField, 0
	case 43, 97, 123, 141: // PossDupFlag, PossResend, GapFillFlag, ResetSeqNumFlag
		return boolField, 0
	case 52, 122: // SendingTime, OrigSendingTime
		return timeField, 0
	case 90: // SecureDataLen
		return lengthField, 91
	case 93: // SignatureLength
		return lengthField, 89
	case 95: // RawDataLength
		return lengthField, 96
	case 212: // XmlDataLen
		return lengthField, 213
	case 348, 350, 352, 354, 356, 358, 360, 362, 364: // Encoded*Len
		return lengthField, tag + 1
	case 445: // EncodedListStatusTextLen
		return lengthField, 446
	case 618, 621: // EncodedLegIssuerLen, EncodedLegSecurityDescLen
		return lengthField, tag + 1
	}
	return plain, 0
}

// xmlData is the one DATA field quickfixgo slices by its length; it reads
// every other DATA field up to the next SOH, so those may not contain one.
const xmlData = 213

const (
	maxTagDigits  = 9
	maxUintDigits = 18 // the most that cannot wrap quickfixgo's int
)

// validate checks the fields of a framed message: the body is
// frame[bodyStart:end] and ends with SOH, the trailer "10=...SOH" is
// frame[end:]. Rules that cut or drop stop at the first break; an anomaly
// that is forwarded is remembered while the rest is still checked, so a
// forwarded frame is otherwise fully valid.
func validate(frame []byte, bodyStart, end int) *FrameError {
	var soft *FrameError
	wantData, lenTag, dataTag, dataLen := false, 0, 0, 0
	first := true
	for pos := bodyStart; pos < end; {
		fieldEnd := pos + bytes.IndexByte(frame[pos:end], soh) // the body ends with SOH
		eq := bytes.IndexByte(frame[pos:fieldEnd], '=')
		if eq < 0 {
			return frameErr(ErrBadField, 0, pos)
		}
		tag, rule := parseTag(frame[pos : pos+eq])
		switch {
		case rule == ErrTagNotPositive:
			if soft == nil {
				soft = frameErr(rule, tag, pos)
			}
		case rule != nil:
			return frameErr(rule, 0, pos)
		}
		valStart := pos + eq + 1

		if wantData {
			wantData = false
			valEnd := valStart + dataLen
			if tag != dataTag || valEnd >= end || frame[valEnd] != soh {
				return frameErr(ErrDataField, lenTag, pos)
			}
			if dataTag != xmlData && bytes.IndexByte(frame[valStart:valEnd], soh) >= 0 {
				return frameErr(ErrDataField, lenTag, pos)
			}
			pos = valEnd + 1
			continue
		}

		if first {
			first = false
			if tag != 35 {
				return frameErr(ErrMsgTypeOrder, tag, pos)
			}
		}

		val := frame[valStart:fieldEnd]
		kind, data := kindOf(tag)
		if kind != plain && kind != structural && len(val) == 0 {
			return frameErr(ErrEmptyValue, tag, pos)
		}
		switch kind {
		case structural:
			return frameErr(ErrMisplacedTag, tag, pos)
		case uintField:
			if len(val) > maxUintDigits || !allDigits(val) {
				return frameErr(ErrBadInt, tag, pos)
			}
		case boolField:
			if len(val) != 1 || (val[0] != 'Y' && val[0] != 'N') {
				return frameErr(ErrBadBoolean, tag, pos)
			}
		case timeField:
			if !isUTCTimestamp(val) {
				return frameErr(ErrBadTimestamp, tag, pos)
			}
		case lengthField:
			if len(val) > maxBodyLengthDigits || !allDigits(val) {
				return frameErr(ErrBadLength, tag, pos)
			}
			n := atoi(val)
			// The data field "<tag>=<n bytes>SOH" must fit before the trailer.
			if n > end-(fieldEnd+1) {
				return frameErr(ErrBadLength, tag, pos)
			}
			wantData, lenTag, dataTag, dataLen = true, tag, data, n
		}
		pos = fieldEnd + 1
	}
	if wantData {
		return frameErr(ErrDataField, lenTag, end)
	}

	sum := frame[end+3 : len(frame)-1]
	if len(sum) != 3 || !allDigits(sum) {
		return frameErr(ErrChecksumFormat, 10, end)
	}
	if checksum(frame[:end]) != atoi(sum) {
		return frameErr(ErrBadChecksum, 10, end)
	}
	return soft
}

// parseTag reads a tag the way quickfixgo cannot misread it: 1-9 digits
// without a leading zero. quickfixgo's atoi accepts leading zeros and wraps
// on overflow, so "034" and "18446744073709551650" would both be MsgSeqNum
// to it and slip past the checks here; those are ErrTagNotCanonical. Zero
// and negative tags are ErrTagNotPositive: quickfixgo rejects them itself.
// Anything else is not a number to quickfixgo either (ErrBadField).
func parseTag(b []byte) (int, error) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || !allDigits(b) {
		return 0, ErrBadField
	}
	if len(b) > maxTagDigits || (b[0] == '0' && (len(b) > 1 || neg)) {
		return 0, ErrTagNotCanonical
	}
	n := atoi(b)
	switch {
	case neg:
		return -n, ErrTagNotPositive
	case n == 0:
		return 0, ErrTagNotPositive
	}
	return n, nil
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// atoi converts at most 18 digits, already checked.
func atoi(b []byte) int {
	n := 0
	for _, c := range b {
		n = n*10 + int(c-'0')
	}
	return n
}

// checksum is the FIX CheckSum of b: the sum of its bytes modulo 256.
func checksum(b []byte) int {
	sum := 0
	for _, c := range b {
		sum += int(c)
	}
	return sum & 0xff
}

// isUTCTimestamp reports whether b is YYYYMMDD-HH:MM:SS with an optional
// fraction of 3, 6 or 9 digits: the four lengths quickfixgo's FIXUTCTimestamp
// reads.
func isUTCTimestamp(b []byte) bool {
	switch len(b) {
	case 17, 21, 24, 27:
	default:
		return false
	}
	if b[8] != '-' || b[11] != ':' || b[14] != ':' {
		return false
	}
	if !allDigits(b[0:8]) || !allDigits(b[9:11]) || !allDigits(b[12:14]) || !allDigits(b[15:17]) {
		return false
	}
	if len(b) > 17 && (b[17] != '.' || !allDigits(b[18:])) {
		return false
	}
	month, day := atoi(b[4:6]), atoi(b[6:8])
	hour, minute, second := atoi(b[9:11]), atoi(b[12:14]), atoi(b[15:17])
	return month >= 1 && month <= 12 && day >= 1 && day <= 31 &&
		hour <= 23 && minute <= 59 && second <= 60
}
