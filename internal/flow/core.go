package flow

import (
	"context"
	"errors"
	"time"

	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/store"
)

// What every journey that sends a code shares: arming a fresh code on its
// flow within the flow's send cap and cool-down. (Loading, checking and
// consuming a flow, and the codes themselves, are in flow.go.)

// sendAllowed says whether the flow may send another code: fewer than
// MaxSends so far, and the cool-down (ResendAfter) since the last one
// over. It is the one place either limit is checked.
func (s *Service) sendAllowed(f store.Flow) error {
	cfg := s.cfg()
	if f.Sends >= cfg.MaxSends {
		return problem.New(problem.TooManyAttempts, "", "code.send_limit", problem.Args{"max": cfg.MaxSends})
	}
	if f.Sends > 0 {
		if wait := f.LastSentAt.Add(cfg.ResendAfter).Sub(s.now()); wait > 0 {
			return problem.New(problem.TooManyAttempts, "", "code.resend_wait", problem.Args{"count": int((wait + time.Second - 1) / time.Second)})
		}
	}
	return nil
}

// armFlowCode puts a fresh code on the browser's flow of kind, within the
// send cap and cool-down (sendAllowed), in one update: the previous code
// stops working. When live is false no code is stored (a flow that must
// look and time the same, in which no code will ever work). more, when
// set, changes the flow further in the same update.
func (s *Service) armFlowCode(ctx context.Context, c Client, flowID, kind, code string, live bool, more func(*store.Flow)) (store.Flow, error) {
	f, err := s.Store.UpdateFlow(ctx, flowID, func(f store.Flow) (store.Flow, error) {
		if f.Kind != kind {
			return f, errFlowGone
		}
		if err := s.checkFlow(f, c); err != nil {
			return f, err
		}
		if err := s.sendAllowed(f); err != nil {
			return f, err
		}
		if live {
			f.CodeHash = codeHash(f.ID, code)
		}
		f.Sends++
		f.LastSentAt = s.now()
		if more != nil {
			more(&f)
		}
		return f, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return store.Flow{}, errFlowGone
	}
	return f, err
}
