% rebase('base.tpl', title=title)
<h1>Apps</h1>
% if secret:
<p role="status">The secret of <code>{{registered}}</code> — copy it now, it is shown only this once:</p>
<textarea class="token" rows="2" readonly aria-label="Client secret">{{secret}}</textarea>
<p>Its client_id is <code>{{registered}}</code>. It must authenticate at the token endpoint with this secret
(HTTP Basic or a <code>client_secret</code> field) and always use PKCE.</p>
% end
% if error:
<p class="error" role="alert">{{error}}</p>
% end
% if notice:
<p role="status">{{notice}}</p>
% end
<h2>Registered apps</h2>
% if not clients:
<p>None yet.</p>
% end
<ul>
% for client in clients:
  <li><a href="/admin/clients/{{client.id}}"><strong>{{client.name}}</strong></a> <code>{{client.client_id}}</code><br>
    % if client.roles != "[]" or client.default_role:
    <span class="muted">roles: {{" ".join(loads(client.roles)) or "any"}}{{"; default " + client.default_role if client.default_role else ""}}</span><br>
    % end
    <span class="muted">returns to {{", ".join(loads(client.redirect_uris))}}</span>
    <form class="inline" method="post" action="/admin/clients">
      <input type="hidden" name="csrf_token" value="{{csrf_token}}">
      <input type="hidden" name="client_id" value="{{client.client_id}}">
      <button type="submit" name="action" value="rotate" class="small secondary">New secret</button>
    </form></li>
% end
</ul>
<h2>Register an app</h2>
<form id="new-client" method="post" action="/admin/clients">
  <input type="hidden" name="csrf_token" value="{{csrf_token}}">
  <label for="name">Name</label>
  <input type="text" id="name" name="name" required>
  <label for="redirect_uris">Redirect URIs, one per line</label>
  <textarea id="redirect_uris" name="redirect_uris" rows="3" required></textarea>
  <label for="description">Description</label>
  <input type="text" id="description" name="description">
  <label for="logo">Logo (address of an image)</label>
  <input type="url" id="logo" name="logo">
  <button type="submit" name="action" value="create">Register</button>
</form>
<h2>Apps that came on their own</h2>
<p class="muted">Any app with a URL as its client_id can ask people to sign in; these did, newest first.</p>
% if not seen:
<p>None yet.</p>
% end
<ul>
% for client_id, info in seen.items():
  <li><code>{{client_id}}</code> — {{info.get("name") or "no name published"}}{{" (" + info.get("error") + ")" if info.get("error") else ""}}</li>
% end
</ul>
