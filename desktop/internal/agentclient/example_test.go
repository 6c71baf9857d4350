package agentclient_test

import (
	"context"
	"fmt"
	"time"

	"github.com/lockstep-sync/lockstep/desktop/internal/agentclient"
	"github.com/lockstep-sync/lockstep/desktop/internal/agentclient/fakeagent"
	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

func Example() {
	agent, err := fakeagent.Start()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer agent.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// First contact: show the presented fingerprint for the administrator to
	// compare with `lockstep-agent fingerprint`, then pin it.
	fp, err := agentclient.Probe(ctx, agent.URL())
	if err != nil {
		fmt.Println(err)
		return
	}
	c, err := agentclient.Dial(ctx, agentclient.Options{URL: agent.URL(), Fingerprint: fp, Client: "lockstep-desktop/1.0.0"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()

	if _, err := c.Login(ctx, "admin", "admin-password"); err != nil {
		fmt.Println(err)
		return
	}
	_, err = agentclient.Call(ctx, c, protocol.SystemsGet, apitype.IDParams{ID: "missing"})
	fmt.Println(c.State(), agentclient.KindOf(err))

	events := make(chan string, 1)
	sub, err := c.SubscribeEvents(ctx, nil, func(n apitype.EventNotification) { events <- n.Type }, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sub.Cancel(ctx)
	agent.PublishEvent(apitype.EventConfigChanged, apitype.ConfigChanged{Kind: "system", Action: "create"})
	fmt.Println(<-events)
	// Output:
	// loggedIn not_found
	// ConfigChanged
}
