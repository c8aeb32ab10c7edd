% rebase('base.tpl', title=title)
<h1>{{title}}</h1>
% if detail:
<p class="error" role="alert">{{detail}}</p>
% end
<p>{{advice}}</p>
<p class="muted">Error {{status}} · request id <code>{{request_id}}</code></p>
<p><a href="/">Go to the start page</a></p>
