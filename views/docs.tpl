% rebase('base.tpl', title=title)
<h1>For developers</h1>
<p>The server's metadata is at
<a href="/.well-known/oauth-authorization-server">/.well-known/oauth-authorization-server</a>.</p>
