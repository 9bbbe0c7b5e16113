package store

import (
	"context"
	"time"
)

// Housekeeping is what the scheduler (internal/jobs) needs: a lease per
// job shared by every node, and the garbage collection no other interface
// covers.
type Housekeeping interface {
	// TakeLease gives holder the lease on the job name until until, and
	// reports true, if nobody holds it at now: there is no lease yet or the
	// last one ended at or before now. Otherwise it changes nothing and
	// reports false. Of nodes racing for one lease, exactly one wins.
	TakeLease(ctx context.Context, name, holder string, now, until time.Time) (bool, error)
	// DeleteExpiredCounters removes failure counters whose last failure is
	// older than the longest window they were counted under, and returns
	// how many went. A counter in its window (a locked account's counter
	// among them) stays.
	DeleteExpiredCounters(ctx context.Context, now time.Time) (int, error)
	// DeleteExpiredTrustedBrowsers removes remembered browsers whose
	// ExpiresAt is not after now and returns how many went.
	DeleteExpiredTrustedBrowsers(ctx context.Context, now time.Time) (int, error)
	// DeleteSentMessages removes messages delivered before before and
	// returns how many went. Unsent messages stay whatever their age.
	DeleteSentMessages(ctx context.Context, before time.Time) (int, error)
}
