package rpc

// SetBeforeAddSub makes every subscription call fn just before it is
// recorded, after the call was let in; it returns the undo.
func SetBeforeAddSub(fn func()) (restore func()) {
	beforeAddSub.Store(&fn)
	return func() { beforeAddSub.Store(nil) }
}

// MaxSubsPerConn is how many subscriptions one connection may hold.
const MaxSubsPerConn = maxSubsPerConn
