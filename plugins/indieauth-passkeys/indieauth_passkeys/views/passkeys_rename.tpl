% rebase('base.tpl', title=title)
<h1>Rename a passkey</h1>
<p>The passkey <strong>{{passkey["name"]}}</strong> (added {{passkey["created"][:10]}}). Its name only helps you tell
your passkeys apart; passkey managers on your devices keep their own.</p>
<form id="passkeys-rename" method="post" action="/plugins/passkeys/rename" novalidate>
  <input type="hidden" name="csrf_token" value="{{csrf_token}}">
  <input type="hidden" name="id" value="{{passkey['id']}}">
  <label for="passkeys-new-name">New name (up to {{max_name}} characters)</label>
  % if error:
  <p class="error" id="rename-error" role="alert">{{error}}</p>
  % end
  <input type="text" id="passkeys-new-name" name="name" value="{{typed}}" maxlength="{{max_name}}" required
         autocomplete="off"{{!' aria-describedby="rename-error" aria-invalid="true"' if error else ''}}>
  <div class="actions">
    <button type="submit">Save the name</button>
    <a class="button secondary" href="/plugins/passkeys/">Cancel</a>
  </div>
</form>
