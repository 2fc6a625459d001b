package fix

import (
	"sync"
	"time"

	"github.com/quickfixgo/quickfix"
)

// ringStoreSize is how many sent messages a session keeps for resend.
const ringStoreSize = 65_536

// ringStore is a quickfix.MessageStore in memory that keeps only the last
// size sent messages: a ResendRequest for older ones is answered with a
// gap fill. quickfixgo's memory store keeps every message of a connection,
// which a busy session grows without bound.
type ringStore struct {
	mu         sync.Mutex
	size       int
	nextSender int
	nextTarget int
	created    time.Time
	seqs       []int
	msgs       [][]byte
}

type ringStoreFactory struct{ size int }

func newRingStoreFactory(size int) quickfix.MessageStoreFactory { return ringStoreFactory{size} }

func (f ringStoreFactory) Create(quickfix.SessionID) (quickfix.MessageStore, error) {
	s := &ringStore{size: f.size}
	_ = s.Reset()
	return s, nil
}

func (s *ringStore) NextSenderMsgSeqNum() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nextSender
}

func (s *ringStore) NextTargetMsgSeqNum() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nextTarget
}

func (s *ringStore) IncrNextSenderMsgSeqNum() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextSender++
	return nil
}

func (s *ringStore) IncrNextTargetMsgSeqNum() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextTarget++
	return nil
}

func (s *ringStore) SetNextSenderMsgSeqNum(n int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextSender = n
	return nil
}

func (s *ringStore) SetNextTargetMsgSeqNum(n int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextTarget = n
	return nil
}

func (s *ringStore) CreationTime() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.created
}

func (s *ringStore) SetCreationTime(t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.created = t
}

func (s *ringStore) save(seq int, msg []byte) {
	i := seq % s.size
	if i < 0 {
		i = -i
	}
	s.seqs[i] = seq
	s.msgs[i] = msg
}

func (s *ringStore) SaveMessage(seq int, msg []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.save(seq, msg)
	return nil
}

func (s *ringStore) SaveMessageAndIncrNextSenderMsgSeqNum(seq int, msg []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.save(seq, msg)
	s.nextSender++
	return nil
}

// SaveMessagesAndIncrNextSenderMsgSeqNum saves a batch under one lock
// (quickfix.BatchMessageStore).
func (s *ringStore) SaveMessagesAndIncrNextSenderMsgSeqNum(first int, msgs [][]byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, m := range msgs {
		s.save(first+i, m)
	}
	s.nextSender = first + len(msgs)
	return len(msgs), nil
}

func (s *ringStore) IterateMessages(begin, end int, cb func([]byte) error) error {
	s.mu.Lock()
	var out [][]byte
	if begin < 1 {
		begin = 1
	}
	if end >= s.nextSender || end < begin {
		end = s.nextSender - 1
	}
	if end-begin >= s.size {
		begin = end - s.size + 1
	}
	for seq := begin; seq <= end; seq++ {
		i := seq % s.size
		if s.seqs[i] == seq && s.msgs[i] != nil {
			out = append(out, s.msgs[i])
		}
	}
	s.mu.Unlock()
	for _, m := range out {
		if err := cb(m); err != nil {
			return err
		}
	}
	return nil
}

func (s *ringStore) GetMessages(begin, end int) ([][]byte, error) {
	var out [][]byte
	err := s.IterateMessages(begin, end, func(m []byte) error {
		out = append(out, m)
		return nil
	})
	return out, err
}

func (s *ringStore) Refresh() error { return nil }

func (s *ringStore) Reset() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextSender, s.nextTarget = 1, 1
	s.created = time.Now()
	if s.seqs == nil {
		s.seqs = make([]int, s.size)
		s.msgs = make([][]byte, s.size)
	} else {
		clear(s.seqs)
		clear(s.msgs)
	}
	return nil
}

func (s *ringStore) Close() error { return nil }
