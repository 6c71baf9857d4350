package syncer

// named gives each plan item the key and title of its entity where the
// plan knows them (the entity was read by the same dry run) or its pair
// does, so that a plan reads "HELP-21 Printer jams", never "21".
func (e *Engine) named(proc string, plan []PlanItem) []PlanItem {
	read := map[string]PlanItem{}
	for _, it := range plan {
		if it.Key != "" {
			read[freshKey(it.Side, it.Entity)] = it
		}
	}
	for i := range plan {
		it := &plan[i]
		if it.Key != "" || it.Entity == "" {
			continue
		}
		if r, ok := read[freshKey(it.Side, it.Entity)]; ok {
			it.Key, it.Title = r.Key, r.Title
			continue
		}
		if p, err := e.pairOf(proc, it.Side, it.Entity); err == nil && p != nil {
			it.Key, it.Title = p.Ref(it.Side).Key, p.Ref(it.Side).Title
		}
	}
	return plan
}
