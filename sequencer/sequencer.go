// Package sequencer puts the venue's commands in one order and makes them
// durable before anyone hears about them. One goroutine owns the engine:
// it takes commands from a bounded queue, stamps each with the next seq and
// the time, appends them to the journal, fsyncs once per batch (group
// commit), applies them to the engine and only then publishes their events
// to the submitter and to subscribers. Open recovers the engine from the
// newest valid snapshot plus the journal records after it.
package sequencer

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/bits"
	"sync"
	"sync/atomic"
	"time"

	"venue/journal"
	"venue/matching"
)

// Engine is the deterministic state machine the sequencer drives; the
// venue's is *matching.Engine.
type Engine interface {
	// Apply executes one command. The events are valid until the next Apply.
	Apply(*matching.Command) []matching.Event
	// MarshalSnapshot returns the whole state in a new slice.
	MarshalSnapshot() []byte
	// RestoreSnapshot replaces the state with a snapshot's.
	RestoreSnapshot([]byte) error
	// StateHash identifies the state: equal states, equal hashes.
	StateHash() [32]byte
}

// capturer is an Engine that can take a snapshot's state quickly and
// leave the encoding to another goroutine (matching.Engine.
// CaptureSnapshot): the snapshot writer encodes it, and the sequencer
// stands still only for the capture.
type capturer interface {
	CaptureSnapshot() *matching.SnapshotCapture
}

// prefetcher is an Engine that can be told the next command of a batch
// ahead of time, to start its memory loads (matching.Engine.Prefetch).
type prefetcher interface {
	Prefetch(*matching.Command)
}

// Defaults of Config.
const (
	DefaultQueueDepth       = 8192
	DefaultMaxBatch         = 1024
	DefaultMaxDelay         = time.Millisecond
	DefaultSnapshotEvery    = 1_000_000
	DefaultSubscriberBuffer = 8192
)

// Config configures a Sequencer. The zero value is usable.
type Config struct {
	// FS is where the journal and snapshots live (default journal.OSFS{}).
	FS journal.FS
	// QueueDepth bounds the commands waiting for the sequencer; Submit
	// fails with ErrQueueFull beyond it.
	QueueDepth int
	// MaxBatch bounds the commands of one batch, i.e. of one fsync.
	MaxBatch int
	// MaxDelay bounds how long a batch keeps taking commands from the
	// queue after its first one. A batch never waits for commands that
	// are not queued yet: it ends when the queue is empty, so a lone
	// command is not delayed, and under load the fsync of one batch is
	// the time in which the next one gathers.
	MaxDelay time.Duration
	// SnapshotEvery is how many commands pass between automatic
	// snapshots (negative: never).
	SnapshotEvery int64
	// SubscriberBuffer bounds the commands a subscriber may lag behind
	// before it is dropped.
	SubscriberBuffer int
	// SegmentSize is the journal's segment size (default
	// journal.DefaultSegmentSize).
	SegmentSize int64
	// Clock returns the time in unix nanoseconds (default time.Now). The
	// sequencer never stamps a time below the previous command's.
	Clock func() int64
	// SkipVerify skips the check of the whole journal at Open; only the
	// records replayed after the snapshot are then read.
	SkipVerify bool
	// Logger is the parent logger (default slog.Default()).
	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	if c.FS == nil {
		c.FS = journal.OSFS{}
	}
	if c.QueueDepth <= 0 {
		c.QueueDepth = DefaultQueueDepth
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = DefaultMaxBatch
	}
	if c.MaxDelay <= 0 {
		c.MaxDelay = DefaultMaxDelay
	}
	if c.SnapshotEvery == 0 {
		c.SnapshotEvery = DefaultSnapshotEvery
	}
	if c.SubscriberBuffer <= 0 {
		c.SubscriberBuffer = DefaultSubscriberBuffer
	}
	if c.Clock == nil {
		c.Clock = func() int64 { return time.Now().UnixNano() }
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Errors of Submit.
var (
	ErrQueueFull = errors.New("sequencer: queue full")
	ErrClosed    = errors.New("sequencer: closed")
)

// Result is what became of one command. Events are shared with
// subscribers: read them, do not change them. A non-nil Err means the
// sequencer stopped (a journal write or fsync failed, or it was closed)
// and the command's fate is unknown until the next recovery.
type Result struct {
	Seq    uint64
	Time   int64
	Events []matching.Event
	Err    error
}

// Published is one command's events as subscribers see them.
type Published struct {
	Seq    uint64
	Time   int64
	Kind   matching.CmdKind
	Events []matching.Event // shared: read only
	// Cmd is the command as journaled (a copy): gateways answer the
	// request it carries (who asked, which ClOrdID).
	Cmd matching.Command
}

// Recovery says how Open rebuilt the state.
type Recovery struct {
	SnapshotSeq  uint64 // 0: no snapshot, replayed from the start
	SnapshotFile string
	// SkippedSnapshots are damaged snapshots passed over.
	SkippedSnapshots []journal.SnapshotSkip
	// Journal is what opening the journal found, Torn the torn tail
	// it truncated.
	Journal   journal.Report
	Verified  bool  // the whole journal was read and checked
	Replayed  int64 // records applied after the snapshot
	LastSeq   uint64
	LastTime  int64
	StateHash [32]byte
	Duration  time.Duration
}

// StateHashHex is the state hash as hex, for logs and operators.
func (r Recovery) StateHashHex() string { return hex.EncodeToString(r.StateHash[:]) }

// Stats are the sequencer's counters, for metrics.
type Stats struct {
	Commands           uint64
	Batches            uint64
	LastSeq            uint64
	QueueLen           int
	FsyncCount         uint64
	FsyncNanosTotal    uint64
	FsyncNanosMax      uint64
	FsyncHistogram     [32]uint64 // bucket i: latency in [2^(i-1), 2^i) microseconds
	Snapshots          uint64
	SnapshotErrors     uint64
	LastSnapshotSeq    uint64
	Subscribers        int
	SubscribersDropped uint64
}

type request struct {
	cmd   matching.Command
	reply func(Result)
}

type control struct {
	snapshot chan snapResult // a snapshot request; nil: none
}

type snapResult struct {
	seq uint64
	err error
}

type snapJob struct {
	seq     uint64
	state   []byte                    // the encoded state, or
	capture *matching.SnapshotCapture // the state to encode
	reply   chan snapResult           // nil for a periodic snapshot
}

// Sequencer is the single writer of the venue's state.
type Sequencer struct {
	cfg Config
	dir string
	eng Engine
	jw  *journal.Writer
	log *slog.Logger

	// Submit side.
	mu     sync.RWMutex
	closed bool
	queue  chan request
	ctl    chan control
	stop   chan struct{}
	done   chan struct{}

	// Owned by the loop goroutine.
	nextSeq       uint64
	lastTime      int64
	sinceSnapshot int64
	snapPending   atomic.Int32 // snapshot jobs handed to the writer and not yet written
	snapJobs      chan snapJob
	snapDone      chan struct{}

	subMu         sync.Mutex
	subs          []*Subscription
	drops         map[string]uint64 // subscribers dropped, by name
	subsClosed    bool
	lastPublished uint64

	err atomic.Pointer[error]

	stats struct {
		commands, batches, lastSeq              atomic.Uint64
		fsyncCount, fsyncTotal, fsyncMax        atomic.Uint64
		fsyncHist                               [32]atomic.Uint64
		snapshots, snapshotErrors, lastSnapshot atomic.Uint64
		dropped                                 atomic.Uint64
	}
}

// Open recovers the state in dir into eng, which must be fresh (as
// matching.New returns it), and starts the sequencer. Recovery: open the
// journal (a torn tail is truncated and reported), check every record
// (unless Config.SkipVerify), restore the newest valid snapshot and replay
// the records after it. Damage inside committed records, a snapshot that
// does not restore or one beyond the journal's end stops it with an error
// that says where.
func Open(dir string, eng Engine, cfg Config) (*Sequencer, Recovery, error) {
	cfg.setDefaults()
	start := time.Now()
	log := cfg.Logger.With("subsystem", "sequencer")
	var rec Recovery
	jw, jrep, err := journal.Open(cfg.FS, dir, journal.Options{SegmentSize: cfg.SegmentSize, Logger: cfg.Logger})
	rec.Journal = jrep
	if err != nil {
		return nil, rec, fmt.Errorf("sequencer: recover %s: %w", dir, err)
	}
	rec, err = recoverState(cfg, dir, eng, jw.LastSeq(), true, log)
	rec.Journal = jrep
	if err != nil {
		jw.Close()
		return nil, rec, fmt.Errorf("sequencer: recover %s: %w", dir, err)
	}
	rec.Duration = time.Since(start)
	last := rec.LastSeq
	log.Info("recovered", "dir", dir, "snapshot_seq", rec.SnapshotSeq, "replayed", rec.Replayed,
		"last_seq", last, "state_hash", rec.StateHashHex(), "duration", rec.Duration)

	s := &Sequencer{
		cfg:      cfg,
		dir:      dir,
		eng:      eng,
		jw:       jw,
		log:      log,
		queue:    make(chan request, cfg.QueueDepth),
		ctl:      make(chan control),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
		nextSeq:  last + 1,
		lastTime: rec.LastTime,
		snapJobs: make(chan snapJob, 1),
		snapDone: make(chan struct{}),
	}
	s.lastPublished = last
	s.stats.lastSeq.Store(last)
	s.stats.lastSnapshot.Store(rec.SnapshotSeq)
	go s.snapshotWriter()
	go s.run()
	return s, rec, nil
}

// Replay rebuilds the state of dir into eng (fresh) without changing
// anything on disk: for operators (venue journal replay) and checks. With
// useSnapshot it starts from the newest valid snapshot, else from the
// first record. A torn tail is not replayed (Recovery.Journal.Torn says so).
func Replay(fsys journal.FS, dir string, eng Engine, useSnapshot bool) (Recovery, error) {
	cfg := Config{FS: fsys, SkipVerify: true} // verified here
	cfg.setDefaults()
	start := time.Now()
	jrep, err := journal.Verify(fsys, dir)
	if err != nil {
		return Recovery{Journal: jrep}, fmt.Errorf("sequencer: replay %s: %w", dir, err)
	}
	rec, err := recoverState(cfg, dir, eng, jrep.LastSeq, useSnapshot, cfg.Logger.With("subsystem", "sequencer"))
	rec.Journal, rec.Verified = jrep, true
	rec.Duration = time.Since(start)
	if err != nil {
		return rec, fmt.Errorf("sequencer: replay %s: %w", dir, err)
	}
	return rec, nil
}

// recoverState restores the newest valid snapshot (when useSnapshot) into
// eng and replays the records after it up to last.
func recoverState(cfg Config, dir string, eng Engine, last uint64, useSnapshot bool, log *slog.Logger) (Recovery, error) {
	var rec Recovery
	if !cfg.SkipVerify && useSnapshot {
		if _, err := journal.Verify(cfg.FS, dir); err != nil {
			return rec, err
		}
		rec.Verified = true
	}
	if useSnapshot {
		snap, skipped, err := journal.LatestSnapshot(cfg.FS, dir)
		rec.SkippedSnapshots = skipped
		for _, s := range skipped {
			log.Warn("skipped damaged snapshot", "file", s.File, "reason", s.Reason)
		}
		if err != nil {
			return rec, err
		}
		if snap != nil {
			if snap.Seq > last {
				return rec, fmt.Errorf("snapshot %s is at seq %d, beyond the journal's last seq %d", snap.File, snap.Seq, last)
			}
			if err := eng.RestoreSnapshot(snap.State); err != nil {
				return rec, fmt.Errorf("restore snapshot %s: %w", snap.File, err)
			}
			rec.SnapshotSeq, rec.SnapshotFile = snap.Seq, snap.File
		}
	}
	var cmd matching.Command
	from := rec.SnapshotSeq + 1
	if from > last && last > 0 {
		from = last // nothing to apply, but read the last record's time
	}
	if last > 0 {
		_, err := journal.Replay(cfg.FS, dir, from, func(seq uint64, payload []byte) error {
			if seq > last {
				return nil
			}
			if err := journal.DecodeCommand(payload, &cmd); err != nil {
				return fmt.Errorf("seq %d: %w", seq, err)
			}
			if cmd.Seq != seq {
				return fmt.Errorf("seq %d: record holds a command stamped %d", seq, cmd.Seq)
			}
			rec.LastTime = max(rec.LastTime, cmd.Time)
			if seq > rec.SnapshotSeq {
				eng.Apply(&cmd)
				rec.Replayed++
			}
			return nil
		})
		if err != nil {
			return rec, err
		}
	}
	rec.LastSeq = last
	rec.StateHash = eng.StateHash()
	return rec, nil
}

// Submit queues cmd and waits for its result. It fails at once with
// ErrQueueFull when the queue is full and ErrClosed after Close; it waits
// at most until ctx is done (the command may still be applied then; only
// its result is lost to this caller). cmd is copied.
func (s *Sequencer) Submit(ctx context.Context, cmd *matching.Command) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	ch := make(chan Result, 1)
	if err := s.enqueue(cmd, func(r Result) { ch <- r }); err != nil {
		return Result{}, err
	}
	select {
	case r := <-ch:
		return r, r.Err
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
}

// SubmitAsync queues cmd; done is called once with its result, on the
// sequencer's goroutine, after the fsync that covers it. done must not
// block: it holds up the whole venue. cmd is copied.
func (s *Sequencer) SubmitAsync(cmd *matching.Command, done func(Result)) error {
	return s.enqueue(cmd, done)
}

func (s *Sequencer) enqueue(cmd *matching.Command, reply func(Result)) error {
	if cmd == nil {
		return errors.New("sequencer: nil command")
	}
	if err := journal.CheckCommand(cmd); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	select {
	case s.queue <- request{cmd: *cmd, reply: reply}:
		return nil
	default:
		return ErrQueueFull
	}
}

// Snapshot asks the sequencer to snapshot the state between two batches
// and waits until the snapshot is durable. It returns the snapshot's seq.
func (s *Sequencer) Snapshot(ctx context.Context) (uint64, error) {
	reply := make(chan snapResult, 1)
	select {
	case s.ctl <- control{snapshot: reply}:
	case <-s.done:
		return 0, ErrClosed
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	select {
	case r := <-reply:
		return r.seq, r.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// Err is the error that stopped the sequencer, if one did.
func (s *Sequencer) Err() error {
	if p := s.err.Load(); p != nil {
		return *p
	}
	return nil
}

// Done is closed when the sequencer has stopped, by Close or by an error.
func (s *Sequencer) Done() <-chan struct{} { return s.done }

// Close stops taking commands, finishes the ones queued, waits for a
// snapshot being written, closes the journal and every subscription.
func (s *Sequencer) Close() error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.stop)
	}
	s.mu.Unlock()
	<-s.done
	<-s.snapDone
	return s.Err()
}

// Stats returns a copy of the counters.
func (s *Sequencer) Stats() Stats {
	st := Stats{
		Commands:           s.stats.commands.Load(),
		Batches:            s.stats.batches.Load(),
		LastSeq:            s.stats.lastSeq.Load(),
		QueueLen:           len(s.queue),
		FsyncCount:         s.stats.fsyncCount.Load(),
		FsyncNanosTotal:    s.stats.fsyncTotal.Load(),
		FsyncNanosMax:      s.stats.fsyncMax.Load(),
		Snapshots:          s.stats.snapshots.Load(),
		SnapshotErrors:     s.stats.snapshotErrors.Load(),
		LastSnapshotSeq:    s.stats.lastSnapshot.Load(),
		SubscribersDropped: s.stats.dropped.Load(),
	}
	for i := range st.FsyncHistogram {
		st.FsyncHistogram[i] = s.stats.fsyncHist[i].Load()
	}
	s.subMu.Lock()
	st.Subscribers = len(s.subs)
	s.subMu.Unlock()
	return st
}

// run is the pipeline. Every command passes the stages in order; nothing
// leaves (stage 6) before the fsync covering it (stage 4) has returned.
func (s *Sequencer) run() {
	defer close(s.done)
	defer close(s.snapJobs)
	batch := make([]request, 0, s.cfg.MaxBatch)
	pf, _ := s.eng.(prefetcher) // the engine announces commands ahead, when it can
	ends := make([]int, 0, s.cfg.MaxBatch)
	var payload []byte
	for {
		// 1. Gather: block for the first command (serving snapshot
		//    requests meanwhile), then take what is queued, up to
		//    MaxBatch commands and MaxDelay after the first.
		batch = s.gather(batch[:0])
		if len(batch) == 0 {
			break // stopped, queue drained
		}

		// 2. Stamp: contiguous seqs, times that never go back.
		for i := range batch {
			c := &batch[i].cmd
			c.Seq = s.nextSeq
			s.nextSeq++
			c.Time = max(s.cfg.Clock(), s.lastTime)
			s.lastTime = c.Time
		}

		// 3. Journal: encode and append each command.
		var err error
		for i := range batch {
			c := &batch[i].cmd
			payload = journal.AppendCommand(payload[:0], c)
			if err = s.jw.Append(c.Seq, payload); err != nil {
				break
			}
		}

		// 4. Durable: one fsync for the whole batch (group commit).
		if err == nil {
			t0 := time.Now()
			err = s.jw.Sync()
			s.observeFsync(time.Since(t0))
		}
		if err != nil {
			s.fail(err, batch)
			break
		}

		// 5. Apply each command; copy its events out of the engine's
		//    buffer, which the next Apply reuses.
		events := make([]matching.Event, 0, 2*len(batch))
		ends = ends[:0]
		for i := range batch {
			if pf != nil && i+1 < len(batch) {
				if j := i + matching.PrefetchClOrdIDAhead; j < len(batch) {
					matching.PrefetchClOrdID(&batch[j].cmd)
				}
				pf.Prefetch(&batch[i+1].cmd)
			}
			events = append(events, s.eng.Apply(&batch[i].cmd)...)
			ends = append(ends, len(events))
		}

		// 6. Publish, now that the batch is durable: each submitter's
		//    result, then every subscriber without blocking.
		s.publish(batch, events, ends)

		s.stats.commands.Add(uint64(len(batch)))
		s.stats.batches.Add(1)
		s.stats.lastSeq.Store(s.nextSeq - 1)
		s.sinceSnapshot += int64(len(batch))
		if s.cfg.SnapshotEvery > 0 && s.sinceSnapshot >= s.cfg.SnapshotEvery {
			s.snapshot(nil)
		}
	}
	s.drainQueue()
	if err := s.jw.Close(); err != nil && s.Err() == nil {
		s.setErr(err)
	}
	s.subMu.Lock()
	for _, sub := range s.subs {
		sub.end(ErrClosed.Error())
	}
	s.subs = nil
	s.subsClosed = true
	s.subMu.Unlock()
}

// gather is stage 1.
func (s *Sequencer) gather(batch []request) []request {
	for len(batch) == 0 {
		select {
		case r := <-s.queue:
			batch = append(batch, r)
		case c := <-s.ctl:
			if c.snapshot != nil {
				s.snapshot(c.snapshot)
			}
		case <-s.stop:
			// Close: no new commands can arrive; finish what is queued.
			select {
			case r := <-s.queue:
				batch = append(batch, r)
			default:
				return batch
			}
		}
	}
	deadline := time.Now().Add(s.cfg.MaxDelay)
	for len(batch) < s.cfg.MaxBatch {
		select {
		case r := <-s.queue:
			batch = append(batch, r)
		default:
			return batch // nothing more queued: do not wait for more
		}
		if len(batch)%64 == 0 && time.Now().After(deadline) {
			return batch
		}
	}
	return batch
}

// publish is stage 6.
func (s *Sequencer) publish(batch []request, events []matching.Event, ends []int) {
	start := 0
	for i := range batch {
		c := &batch[i].cmd
		evs := events[start:ends[i]:ends[i]]
		start = ends[i]
		if batch[i].reply != nil {
			batch[i].reply(Result{Seq: c.Seq, Time: c.Time, Events: evs})
		}
	}
	s.subMu.Lock()
	defer s.subMu.Unlock()
	s.lastPublished = batch[len(batch)-1].cmd.Seq
	if len(s.subs) == 0 {
		return
	}
	// One Published per command, in one allocation per batch, shared by
	// every subscriber.
	pubs := make([]Published, len(batch))
	start = 0
	for i := range batch {
		c := &batch[i].cmd
		pubs[i] = Published{Seq: c.Seq, Time: c.Time, Kind: c.Kind, Events: events[start:ends[i]:ends[i]], Cmd: *c}
		start = ends[i]
	}
	kept := s.subs[:0]
	for _, sub := range s.subs {
		if s.deliver(sub, pubs) {
			kept = append(kept, sub)
		}
	}
	clear(s.subs[len(kept):])
	s.subs = kept
}

// Drops counts how many times subscribers named name were dropped for
// falling behind.
func (s *Sequencer) Drops(name string) uint64 {
	s.subMu.Lock()
	defer s.subMu.Unlock()
	return s.drops[name]
}

// deliver hands one batch to a subscriber without blocking (under subMu). A subscriber
// whose buffer is full has fallen behind: it keeps what it got, its
// channel is closed and it is dropped, so it can resume from the journal.
func (s *Sequencer) deliver(sub *Subscription, pubs []Published) bool {
	for i := range pubs {
		select {
		case sub.ch <- &pubs[i]:
		default:
			reason := fmt.Sprintf("fell behind: buffer of %d commands full at seq %d", cap(sub.ch), pubs[i].Seq)
			s.log.Warn("dropped subscriber", "subscriber", sub.name, "reason", reason)
			s.stats.dropped.Add(1)
			if s.drops == nil {
				s.drops = map[string]uint64{}
			}
			s.drops[sub.name]++
			sub.end(reason)
			return false
		}
	}
	return true
}

func (s *Sequencer) observeFsync(d time.Duration) {
	ns := uint64(d.Nanoseconds())
	s.stats.fsyncCount.Add(1)
	s.stats.fsyncTotal.Add(ns)
	for {
		old := s.stats.fsyncMax.Load()
		if ns <= old || s.stats.fsyncMax.CompareAndSwap(old, ns) {
			break
		}
	}
	s.stats.fsyncHist[min(bits.Len64(ns/1000), 31)].Add(1)
}

func (s *Sequencer) setErr(err error) {
	s.err.CompareAndSwap(nil, &err)
}

// fail stops the sequencer after a journal write or fsync failed: the
// batch's fate is unknown (some of it may be on disk), so nothing of it is
// applied or acknowledged, and only a recovery may go on.
func (s *Sequencer) fail(err error, batch []request) {
	err = fmt.Errorf("sequencer: journal failed at seq %d: %w", batch[0].cmd.Seq, err)
	s.setErr(err)
	s.log.Error("journal failed; stopping", "err", err)
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.stop)
	}
	s.mu.Unlock()
	for i := range batch {
		if batch[i].reply != nil {
			batch[i].reply(Result{Err: err})
		}
	}
}

// drainQueue answers whatever is still queued once the loop has stopped
// (only after an error: Close lets gather drain it).
func (s *Sequencer) drainQueue() {
	err := s.Err()
	if err == nil {
		err = ErrClosed
	}
	for {
		select {
		case r := <-s.queue:
			if r.reply != nil {
				r.reply(Result{Err: err})
			}
		default:
			return
		}
	}
}

// snapshot marshals the state between batches and hands it to the writer.
// A periodic snapshot (reply nil) is skipped while another is being
// written; a requested one waits its turn.
func (s *Sequencer) snapshot(reply chan snapResult) {
	if s.Err() != nil {
		if reply != nil {
			reply <- snapResult{err: s.Err()}
		}
		return
	}
	if reply == nil && s.snapPending.Load() > 0 {
		return // the writer is busy; try again after the next batch
	}
	s.snapPending.Add(1)
	s.sinceSnapshot = 0
	job := snapJob{seq: s.nextSeq - 1, reply: reply}
	if c, ok := s.eng.(capturer); ok {
		job.capture = c.CaptureSnapshot()
	} else {
		job.state = s.eng.MarshalSnapshot()
	}
	s.snapJobs <- job
}

// snapshotWriter writes snapshots off the engine's goroutine.
func (s *Sequencer) snapshotWriter() {
	defer close(s.snapDone)
	for job := range s.snapJobs {
		start := time.Now()
		if job.capture != nil {
			job.state = job.capture.Encode()
		}
		err := journal.WriteSnapshot(s.cfg.FS, s.dir, job.seq, job.state)
		if err != nil {
			s.stats.snapshotErrors.Add(1)
			s.log.Error("snapshot failed", "seq", job.seq, "err", err)
		} else {
			s.stats.snapshots.Add(1)
			s.stats.lastSnapshot.Store(job.seq)
			s.log.Info("snapshot written", "seq", job.seq, "bytes", len(job.state), "duration", time.Since(start))
		}
		s.snapPending.Add(-1)
		if job.reply != nil {
			job.reply <- snapResult{seq: job.seq, err: err}
		}
	}
}
