% rebase('base.tpl', title=title)
% if approved:
<h1>Go back to your device</h1>
<p id="device-done" role="status"><strong>{{client.title}}</strong> is allowed in. Your device will go on by
itself within a few seconds; you can close this page.</p>
% else:
<h1>Denied: go back to your device</h1>
<p id="device-done" role="status"><strong>{{client.title}}</strong> was not let in. Your device will say so;
you can close this page.</p>
% end
<p><a href="/tokens">Your tokens</a> lists every app you let in, and revokes any of them.</p>
