package rpc

// SetBeforeAddSub makes every subscription call fn just before it is
// recorded, after the call was let in; it returns the undo.
func SetBeforeAddSub(fn func()) (restore func()) {
	beforeAddSub.Store(&fn)
	return func() { beforeAddSub.Store(nil) }
}

// MaxSubsPerConn is how many subscriptions one connection may hold.
const MaxSubsPerConn = maxSubsPerConn

// SetAroundNotifySub makes every subscription's notification call before
// just before it is queued (or dropped) and what it returns just after; it
// returns the undo.
func SetAroundNotifySub(before func() (after func())) (restore func()) {
	aroundNotifySub.Store(&before)
	return func() { aroundNotifySub.Store(nil) }
}
