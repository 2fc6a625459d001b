package quickfix

import (
	"math/rand/v2"
	"testing"

	"github.com/quickfixgo/quickfix/datadictionary"
)

// TestTagsSeenIsASet (venue patch 12): the stack bitmap and its map for
// large tags answer as a map does, over random tags on both sides of 1024
// and the edges.
func TestTagsSeenIsASet(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 200; round++ {
		var got tagsSeen
		want := map[Tag]bool{}
		for i := 0; i < 100; i++ {
			var tag Tag
			switch rng.IntN(4) {
			case 0:
				tag = Tag(rng.IntN(64))
			case 1:
				tag = Tag(1020 + rng.IntN(8)) // around the bitmap's end
			case 2:
				tag = Tag(rng.IntN(1024))
			default:
				tag = Tag(rng.IntN(20000))
			}
			if seen := got.add(tag); seen != want[tag] {
				t.Fatalf("round %d: add(%d) said seen=%v, want %v", round, tag, seen, want[tag])
			}
			want[tag] = true
		}
	}
	var neg tagsSeen
	if neg.add(-1) || !neg.add(-1) {
		t.Fatal("a negative tag is remembered too")
	}
}

// TestValidateFieldFormats (venue patch 12): every typed value is still
// read, and a malformed one is refused as IncorrectDataFormatForValue;
// string types accept anything that is not empty.
func TestValidateFieldFormats(t *testing.T) {
	d, err := datadictionary.Parse("spec/FIX44.xml")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		tag  Tag
		val  string
		good bool
	}{
		{38, "0.5", true}, {38, "x", false}, // QTY
		{44, "59000", true}, {44, "5e", false}, // PRICE
		{34, "12", true}, {34, "1.5", false}, // SEQNUM
		{52, "20261201-10:00:00.000", true}, {52, "20261201", false}, // UTCTIMESTAMP
		{43, "Y", true}, {43, "maybe", false}, // BOOLEAN (and its enum)
		{110, "3", true}, {110, "three", false}, // QTY: MinQty
		{58, "anything at all", true}, // STRING
	} {
		rej := validateField(d, ValidatorSettings{}, nil, TagValue{tag: c.tag, value: []byte(c.val)})
		if c.good != (rej == nil) {
			t.Errorf("tag %d value %q: reject %v, want good=%v", c.tag, c.val, rej, c.good)
		}
	}
}
