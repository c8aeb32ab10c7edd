% rebase('base.tpl', title=title)
<h1>Connect a device</h1>
<p>An app on another device (a command-line program, an e-reader, a TV) shows a code and this address. Type
that code here to let it in. Only type a code that you are looking at on your own device.</p>
% if error:
<p class="error" id="device-error" role="alert">{{error}}</p>
% end
<form id="device" method="post" action="/device">
  <input type="hidden" name="csrf_token" value="{{csrf_token}}">
  <label for="user_code">The code your device shows</label>
  <input type="text" id="user_code" name="user_code" value="{{user_code}}" required maxlength="40"
         autocomplete="one-time-code" autocapitalize="characters" spellcheck="false" placeholder="BCDF-GHJK"
         aria-describedby="user_code-help{{' device-error' if error else ''}}"{{!' aria-invalid="true"' if error else ''}}>
  <p class="muted" id="user_code-help">8 letters; capitals, dashes and spaces do not matter.</p>
  <div class="actions"><button type="submit">Continue</button></div>
</form>
