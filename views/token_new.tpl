% rebase('base.tpl', title=title)
<h1>New testing token</h1>
<p>A token for developing an app, without running the whole sign-in flow. It is shown once.</p>
% if error:
<p class="error" id="token-error" role="alert">{{error}}</p>
% end
<form id="new-token" method="post" action="/tokens/new">
  <input type="hidden" name="csrf_token" value="{{csrf_token}}">
  <label for="client_id">The app's client_id (its URL)</label>
  <input type="url" id="client_id" name="client_id" value="{{values.get('client_id', '')}}" required
         placeholder="https://app.example/" autocomplete="url"{{!' aria-describedby="token-error" aria-invalid="true"' if error else ''}}>
  <fieldset>
    <legend>Scopes</legend>
    % chosen = values.get('scopes', ['create'])
    % for scope in scopes:
    <div class="check">
      <input type="checkbox" name="scope" value="{{scope.name}}" id="scope-{{scope.name}}"{{!' checked' if scope.name in chosen else ''}}>
      <label for="scope-{{scope.name}}"><code>{{scope.name}}</code> {{scope.description}}</label>
    </div>
    % end
    <label for="extra_scopes">Other scopes, separated by spaces</label>
    <input type="text" id="extra_scopes" name="extra_scopes" value="{{values.get('extra', '')}}" autocomplete="off">
  </fieldset>
  <label for="lifetime">Works for</label>
  <select id="lifetime" name="lifetime">
    % for value, label in lifetimes:
    <option value="{{value}}"{{!' selected' if value == values.get('lifetime', '1d') else ''}}>{{label}}</option>
    % end
  </select>
  <div class="actions"><button type="submit">Create token</button></div>
</form>
