% rebase('base.tpl', title=title)
<h1>{{"Change your password" if has_password else "Set a password"}}</h1>
% if not has_password:
<div id="first-password">
<p>You are signed in with a one-time link, which now stops working. Choose the password you will sign in with
from now on: this server has no other way to know it is you.</p>
<p>What comes next: once it is saved, the start page shows how to make your website name this server, so that
you can sign in to IndieWeb apps with your own address, and how to add a second step to signing in.</p>
</div>
% end
% if error:
<p class="error" id="change-error" role="alert">{{error}}</p>
% elif request_changed:
<p role="status">Your password has been saved.</p>
% end
<form method="post" action="/plugins/password/">
  <input type="hidden" name="csrf_token" value="{{csrf_token}}">
  <input type="text" name="username" value="{{user.username}}" autocomplete="username" hidden>
  % if has_password:
  <label for="current_password">Current password</label>
  <input type="password" id="current_password" name="current_password" autocomplete="current-password" required>
  % end
  <label for="new_password">New password (at least {{min_length}} characters)</label>
  <input type="password" id="new_password" name="new_password" autocomplete="new-password" minlength="{{min_length}}" required>
  <label for="new_password_again">New password again</label>
  <input type="password" id="new_password_again" name="new_password_again" autocomplete="new-password" minlength="{{min_length}}" required>
  <button type="submit">Save password</button>
</form>
