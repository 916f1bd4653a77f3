// Package classclient is the learner's side of a class hub: a client of any
// JupyterHub-compatible hub (classhub or JupyterHub 3.0 and later) that
// speaks only JupyterHub's REST API, so the tray, the dashboard and the
// `classhub class` commands drive a class hub the same way, whoever runs it.
//
// The API, in short:
//
//	Normalize(link) (hubURL, error)         the hub's base URL from whatever link the learner pastes
//	New(hubURL, Token) *Client              a client of one hub with one token
//	(*Client).Whoami(ctx) (User, error)     GET /hub/api/user
//	(*Client).Server(ctx) (Server, error)   the default server: Stopped, Pending (Phase), Ready; its URL
//	(*Client).Start(ctx) error              POST   /hub/api/users/NAME/server (201/202; a running server is fine)
//	(*Client).Stop(ctx) error               DELETE /hub/api/users/NAME/server (a stopped server is fine)
//	(*Client).Progress(ctx, func(Event))    the start's progress stream, until ready or failed
//	(*Client).Revoke(ctx) error             deletes the client's own token on the hub
//	Login(ctx, hubURL, open) (Token, error) the browser login (OAuth 2 for native apps, PKCE S256, loopback redirect)
//	Paste(ctx, hubURL, secret) (Token, error) a token pasted from HUB/hub/token (stock JupyterHub); on a hub
//	                                        that does not tell a token its id, the app's own token (Minted)
//	OpenStore(dir) / DefaultStore()         where hubs (hubs.json) and their tokens (keyring, else 0600 file) are kept
//	(*Store).Hubs / Current / Add / Use / Forget / Client
//
// Every error the hub or the network causes is an *Error whose Kind says
// what happened (NotHub, Unreachable, Refused, HubFailed, NoAppLogin,
// Denied, StartFailed) and whose text is a sentence that says what to do;
// KindOf(err) reads it through wrapping. Token secrets never appear in an
// error, a log line or Token's String.
package classclient
