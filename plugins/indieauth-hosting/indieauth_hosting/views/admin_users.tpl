% rebase('base.tpl', title=title)
<h1>Users</h1>
% if link:
<p role="status">{{"One-time sign-in link for " + reset + " (their credentials were removed; give them this link to set new ones):" if reset else "Invite link (works once, for 7 days):"}}</p>
<textarea class="token" rows="2" readonly aria-label="Link">{{link}}</textarea>
% end
% if get('error'):
<p class="error" role="alert">{{error}}</p>
% end
<div class="table-wrap"><table>
  <thead><tr><th scope="col">User</th><th scope="col">Profile URL</th><th scope="col">Role</th><th scope="col">State</th><th scope="col">Actions</th></tr></thead>
  <tbody>
  % for person in users:
  <tr>
    <td data-label="User">{{person.username}}</td>
    <td data-label="Profile URL"><a href="{{person.me}}">{{person.me}}</a></td>
    <td data-label="Role">{{person.role}}</td>
    <td data-label="State">{{"disabled" if person.disabled_at else "active"}}</td>
    <td data-label="Actions">
      % if person.role != "owner" and person.id != user.id:
      % for action, label in ((("enable", "Enable"),) if person.disabled_at else (("disable", "Disable"),)) + (("reset", "Reset sign-in"), ("delete", "Delete")):
      <form class="inline" method="post" action="/admin/users">
        <input type="hidden" name="csrf_token" value="{{csrf_token}}">
        <input type="hidden" name="username" value="{{person.username}}">
        <button type="submit" name="action" value="{{action}}" class="small secondary">{{label}}</button>
      </form>
      % end
      % end
    </td>
  </tr>
  % end
  </tbody>
</table></div>
<h2>Invite someone</h2>
<form id="new-invite" method="post" action="/admin/users">
  <input type="hidden" name="csrf_token" value="{{csrf_token}}">
  <label for="role">Role</label>
  <select id="role" name="role"><option value="user">user</option><option value="admin">admin</option></select>
  % for client, roles in clients:
  <label for="app-role-{{client.id}}">Role in {{client.name}}</label>
  % if roles:
  <select id="app-role-{{client.id}}" name="app_role.{{client.id}}">
    <option value="">{{"its default (" + client.default_role + ")" if client.default_role else "none"}}</option>
    % for role in roles:
    <option value="{{role}}">{{role}}</option>
    % end
  </select>
  % else:
  <input type="text" id="app-role-{{client.id}}" name="app_role.{{client.id}}" autocomplete="off" spellcheck="false"
         placeholder="{{client.default_role or 'none'}}">
  % end
  % end
  <button type="submit" name="action" value="invite">Make an invite link</button>
</form>
