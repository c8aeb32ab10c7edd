% rebase('base.tpl', title=title)
<h1>{{title}}</h1>
<p class="error" id="github-error" role="alert">{{error}}</p>
<p><a href="{{back}}">{{back_label}}</a></p>
