// Copyright (c) quickfixengine.org  All rights reserved.
//
// This file may be distributed under the terms of the quickfixengine.org
// license as defined by quickfixengine.org and appearing in the file
// LICENSE included in the packaging of this file.
//
// This file is provided AS IS with NO WARRANTY OF ANY KIND, INCLUDING
// THE WARRANTY OF DESIGN, MERCHANTABILITY AND FITNESS FOR A
// PARTICULAR PURPOSE.
//
// See http://www.quickfixengine.org/LICENSE for licensing information.
//
// Contact ask@quickfixengine.org if any conditions of this licensing
// are not clear to you.

package quickfix

import (
	"time"
)

// The MessageStore interface provides methods to record and retrieve messages for resend purposes.
type MessageStore interface {
	NextSenderMsgSeqNum() int
	NextTargetMsgSeqNum() int

	IncrNextSenderMsgSeqNum() error
	IncrNextTargetMsgSeqNum() error

	SetNextSenderMsgSeqNum(next int) error
	SetNextTargetMsgSeqNum(next int) error

	CreationTime() time.Time
	SetCreationTime(time.Time)

	SaveMessage(seqNum int, msg []byte) error
	SaveMessageAndIncrNextSenderMsgSeqNum(seqNum int, msg []byte) error
	GetMessages(beginSeqNum, endSeqNum int) ([][]byte, error)
	IterateMessages(beginSeqNum, endSeqNum int, cb func([]byte) error) error

	Refresh() error
	Reset() error

	Close() error
}

// The MessageStoreFactory interface is used by session to create a session specific message store.
type MessageStoreFactory interface {
	Create(sessionID SessionID) (MessageStore, error)
}

// BatchMessageStore is a MessageStore that saves several consecutive sent
// messages at once (VENUE PATCH 14): SendRawBatchToTarget uses it when the
// session's store has it. msgs[i] has MsgSeqNum first+i. It returns how
// many of msgs it saved, a prefix (the next sender MsgSeqNum is then
// first+saved), and the error that stopped it.
type BatchMessageStore interface {
	SaveMessagesAndIncrNextSenderMsgSeqNum(first int, msgs [][]byte) (saved int, err error)
}

// SaveBatch saves msgs (MsgSeqNums first, first+1, ...) in store: at once
// when it is a BatchMessageStore, else one by one. It returns how many it
// saved, a prefix, and the error that stopped the rest (VENUE PATCH 14).
func SaveBatch(store MessageStore, first int, msgs [][]byte) (int, error) {
	if bs, ok := store.(BatchMessageStore); ok {
		return bs.SaveMessagesAndIncrNextSenderMsgSeqNum(first, msgs)
	}
	for i, m := range msgs {
		if err := store.SaveMessageAndIncrNextSenderMsgSeqNum(first+i, m); err != nil {
			return i, err
		}
	}
	return len(msgs), nil
}
