% rebase('base.tpl', title=title)
<h1>{{title}}</h1>
<p>Revoke {{description}}? Apps using them stop working at once and must sign in again.</p>
<form method="post" action="{{action}}">
  <input type="hidden" name="csrf_token" value="{{csrf_token}}">
  <input type="hidden" name="what" value="{{what}}">
  <input type="hidden" name="target" value="{{target}}">
  <input type="hidden" name="confirm" value="yes">
  <div class="actions">
    <button type="submit">{{button}}</button>
    <a class="button secondary" href="/tokens">Cancel</a>
  </div>
</form>
