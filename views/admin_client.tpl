% rebase('base.tpl', title=title)
<p><a href="/admin/clients">← Apps</a></p>
<h1>{{client.name}}</h1>
<dl class="facts">
  <dt>client_id</dt>
  <dd><code class="client-id">{{client.client_id}}</code></dd>
  <dt>Returns to</dt>
  <dd>{{", ".join(loads(client.redirect_uris))}}</dd>
  % if client.description:
  <dt>Description</dt>
  <dd>{{client.description}}</dd>
  % end
</dl>
% if notice:
<p role="status">{{notice}}</p>
% end
% if error:
<p class="error" role="alert" id="roles-error">{{error}}</p>
% end
<h2>Roles</h2>
<p class="muted">A person's role in this app is sent to it in the token response and as the <code>role</code>
claim of JWT access tokens. Apps that came on their own never get a role.</p>
<form id="client-roles" method="post" action="/admin/clients/{{client.id}}">
  <input type="hidden" name="csrf_token" value="{{csrf_token}}">
  <label for="roles">Roles this app accepts, separated by spaces (leave empty to accept any)</label>
  <input type="text" id="roles" name="roles" value="{{' '.join(roles)}}" autocomplete="off" spellcheck="false"
         placeholder="editor viewer">
  <label for="default_role">Default role, for people without one of their own (optional)</label>
  <input type="text" id="default_role" name="default_role" value="{{client.default_role}}" autocomplete="off"
         spellcheck="false">
  <button type="submit" name="action" value="roles">Save roles</button>
</form>
<h2>Who has which role</h2>
% if not assignments:
<p>Nobody has a role of their own here{{"; everyone gets " + client.default_role if client.default_role else ""}}.</p>
% else:
<div class="table-wrap"><table>
  <thead><tr><th scope="col">User</th><th scope="col">Role</th><th scope="col">Actions</th></tr></thead>
  <tbody>
  % for row in assignments:
  <tr>
    <td data-label="User">{{row.user.username}}</td>
    <td data-label="Role">{{row.role}}{{" (not accepted any more: the default applies)" if roles and row.role not in roles else ""}}</td>
    <td data-label="Actions"><form class="inline" id="take-away-{{row.user.username}}" method="post" action="/admin/clients/{{client.id}}">
      <input type="hidden" name="csrf_token" value="{{csrf_token}}">
      <input type="hidden" name="username" value="{{row.user.username}}">
      <input type="hidden" name="role" value="">
      <button type="submit" name="action" value="assign" class="small secondary"
              aria-label="Take away the role of {{row.user.username}}">Take away</button>
    </form></td>
  </tr>
  % end
  </tbody>
</table></div>
% end
<h3>Give someone a role</h3>
<form id="assign-role" method="post" action="/admin/clients/{{client.id}}">
  <input type="hidden" name="csrf_token" value="{{csrf_token}}">
  <label for="username">User</label>
  <select id="username" name="username" required>
    % for person in users:
    <option value="{{person.username}}">{{person.username}}</option>
    % end
  </select>
  <label for="role">Role</label>
  % if roles:
  <select id="role" name="role" required>
    % for role in roles:
    <option value="{{role}}">{{role}}</option>
    % end
  </select>
  % else:
  <input type="text" id="role" name="role" required autocomplete="off" spellcheck="false">
  % end
  <button type="submit" name="action" value="assign">Give the role</button>
</form>
<h3>Remove this app</h3>
<form id="remove-client" method="post" action="/admin/clients">
  <input type="hidden" name="csrf_token" value="{{csrf_token}}">
  <input type="hidden" name="client_id" value="{{client.client_id}}">
  <div class="check">
    <input type="checkbox" id="confirm-remove" name="confirm" value="yes" required>
    <label for="confirm-remove">Remove {{client.name}}: its secret, roles and tokens stop working at once</label>
  </div>
  <button type="submit" name="action" value="remove" class="secondary">Remove the app</button>
</form>
