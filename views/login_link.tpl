% rebase('base.tpl', title=title)
<h1>Sign in with a one-time link</h1>
<p>This link signs you in once. Press the button to continue.</p>
<form method="post" action="/login/once/{{token}}">
  <input type="hidden" name="csrf_token" value="{{csrf_token}}">
  <button type="submit">Sign in</button>
</form>
