package streaming

import (
	"fmt"
)

// StateVersion is the version of the State layout this package writes.
const StateVersion = 1

// State is a checkpoint of a Stream: what its consumer has received. It is
// small and JSON-serializable; Resume continues from it.
//
// A State is exact: the rows yielded before it was taken, followed by the
// rows yielded after Resume, are the rows of an uninterrupted run. No
// shuffle buffer needs saving, because any position of the window shuffle
// is computed, not replayed.
type State struct {
	Version int `json:"version"`
	// Epoch is the epoch in progress.
	Epoch int64 `json:"epoch"`
	// Position is the first example not wholly delivered: an index into
	// this consumer's share, or in elastic mode an index into the epoch's
	// global sequence (the same for every consumer in lockstep).
	Position int64 `json:"position"`
	// Skip counts rows, after ops, already delivered from the chunk at
	// Position; it is non-zero only when ops changed row counts.
	Skip int64 `json:"skip,omitempty"`
	// Delivered counts rows after ops delivered or skipped this epoch; Skip
	// and Take use it.
	Delivered int64 `json:"delivered"`
	// Done is set once the epoch is over.
	Done bool `json:"done,omitempty"`
	// Consumer and Consumers number this consumer (rank*workers+worker) and
	// all of them.
	Consumer  int  `json:"consumer"`
	Consumers int  `json:"consumers"`
	Elastic   bool `json:"elastic,omitempty"`
	// Fingerprint identifies the dataset, the shuffle, the split policy and
	// the ops; Resume refuses a state from another stream.
	Fingerprint string `json:"fingerprint"`
}

// State returns the checkpoint of what the consumer has received so far.
// Taken in the body of a Batches loop, it covers the batch just received.
func (s *Stream) State() State {
	c, total := s.consumer()
	st := State{
		Version:     StateVersion,
		Epoch:       s.pos.epoch,
		Position:    s.pos.local,
		Skip:        s.pos.skip,
		Delivered:   s.pos.delivered,
		Done:        s.pos.done,
		Consumer:    int(c),
		Consumers:   int(total),
		Elastic:     s.cfg.elastic,
		Fingerprint: s.fingerprint(),
	}
	if s.cfg.elastic {
		st.Position = s.pos.base + s.pos.local*total
	}
	return st
}

// Resume moves the stream to the checkpoint st, taken from a stream built
// the same way (same files, shuffle, split policy and ops). In elastic mode
// the number of consumers may differ from when st was taken, provided every
// consumer took its state at the same step (st.Skip is zero when ops keep
// row counts); each consumer then resumes from the same global position.
// Otherwise st must come from this very consumer. The error wraps ErrState.
func (s *Stream) Resume(st State) error {
	c, total := s.consumer()
	switch {
	case st.Version != StateVersion:
		return fmt.Errorf("%w: version %d, want %d", ErrState, st.Version, StateVersion)
	case st.Fingerprint != s.fingerprint():
		return fmt.Errorf("%w: taken from another dataset, shuffle, split or op chain", ErrState)
	case st.Elastic != s.cfg.elastic:
		return fmt.Errorf("%w: elastic mode differs", ErrState)
	case st.Position < 0 || st.Skip < 0 || st.Delivered < st.Skip:
		return fmt.Errorf("%w: negative position", ErrState)
	}
	pos := position{epoch: st.Epoch, skip: st.Skip, delivered: st.Delivered, done: st.Done}
	if s.cfg.elastic {
		if int64(st.Consumers) != total && st.Skip != 0 {
			return fmt.Errorf("%w: the consumers changed (%d to %d) at a checkpoint inside a chunk whose ops changed row counts", ErrState, st.Consumers, total)
		}
		pos.base = st.Position
	} else {
		if int64(st.Consumer) != c || int64(st.Consumers) != total {
			return fmt.Errorf("%w: taken by consumer %d of %d, this is %d of %d", ErrState, st.Consumer, st.Consumers, c, total)
		}
		pos.local = st.Position
	}
	s.pos = pos
	return nil
}
