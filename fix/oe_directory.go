package fix

// Kick disconnects a logged-on order-entry session through the acceptor
// given to Attach (its cancel-on-disconnect applies) and reports whether
// it was connected: for a session the directory has just suspended or
// removed. Before Attach it does nothing.
func (g *OrderEntry) Kick(comp string) bool {
	g.mu.Lock()
	acc := g.acc
	g.mu.Unlock()
	if acc == nil {
		return false
	}
	return g.Disconnect(acc, comp)
}
