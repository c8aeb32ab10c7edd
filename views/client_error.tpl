% rebase('base.tpl', title=title)
<h1>{{title}}</h1>
<p class="error" role="alert">{{message}}</p>
<p>You were sent here by an app that wants you to sign in. Because the app could not be verified,
this server will not send you back to it: go back to the app and tell its developer.</p>
<details>
  <summary>For the app's developer</summary>
  <p>The authorization request must carry a valid <code>client_id</code> (your app's URL) and a
  <code>redirect_uri</code> on the same host, or one your <code>client_id</code> page publishes with
  <code>&lt;link rel="redirect_uri" href="…"&gt;</code> or in the <code>redirect_uris</code> of its
  client metadata document. See the <a href="https://indieauth.spec.indieweb.org/#authorization-request">IndieAuth
  specification</a>.</p>
  % if client_id:
  <p>client_id received: <code>{{client_id}}</code></p>
  % end
</details>
