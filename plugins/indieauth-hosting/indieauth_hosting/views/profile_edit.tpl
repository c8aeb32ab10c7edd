% rebase('base.tpl', title=title)
<h1>Your profile</h1>
<p>Shown at <a href="/u/{{person.username}}">/u/{{person.username}}</a> when that is your profile URL, and given
to apps you allow to see your profile.</p>
% include('profile_form.tpl', action=f"/u/{person.username}/edit", values=values, error=error)
