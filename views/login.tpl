% rebase('base.tpl', title=title, stylesheets=stylesheets, scripts=scripts)
<h1>{{title}}</h1>
% if get('client'):
<p id="asking">Signing in for <strong>{{client.title}}</strong>{{!f" (<code>{client.host}</code>)" if client.name else ""}}:
after you sign in, you will be asked whether to let it in.</p>
% include('client_named.tpl', client=client)
% end
% if get('error'):
<p class="error" role="alert">{{error}}</p>
% end
% if not methods:
<p class="error" role="alert">No way to sign in is enabled. The site owner must enable an
authenticator plugin (for example <code>[plugins.password]</code>) in the configuration.</p>
% end
% for auth, fragment in methods:
<section class="method" aria-labelledby="method-{{auth.name}}">
  <h2 id="method-{{auth.name}}">{{auth.label}}</h2>
  {{!fragment}}
</section>
% end
% if single and not step:
<p><a href="/login?next={{next}}">Other ways to sign in</a></p>
% end
% if step:
<p><a href="/login?next={{next}}">Start signing in again</a></p>
% end
