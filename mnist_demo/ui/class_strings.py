"""The Class tab's texts, English and Simplified Chinese; merged into `i18n.STRINGS` (kept apart so the tab's
many lines do not collide with other tabs' edits of the shared table)."""

from __future__ import annotations

CLASS_STRINGS: dict[str, dict[str, str]] = {
    "tab.class": {"en": "Class", "zh": "课堂"},
    "class.intro": {
        "en": "**Class mode.** A teacher opens a class and shows its QR code; students join from their phones, "
              "draw digits and tell the network what they meant. The class's drawings become a dataset the class "
              "can look at, clean up and export.",
        "zh": "**课堂模式。** 老师开设一个课堂并展示二维码；学生用手机加入，书写数字并告诉网络自己写的是几。"
              "全班的书写会成为一个数据集，大家可以一起查看、整理和导出。",
    },
    "class.privacy": {
        "en": "What is kept: each drawing you confirm (its 28×28 input and its ink), the digit you gave, the "
              "network's answer and confidence, the time, and a nickname if you typed one. No account, no name "
              "unless you choose one. Where: this app's class database (`{path}`). How long: until the teacher "
              "deletes the class, and at most {days} days after it was opened or last renewed.",
        "zh": "保存的内容：你确认的每一幅书写（28×28 输入与笔迹）、你给出的数字、网络的回答与把握、时间，以及你填写的昵称（如有）。"
              "无需账号，除非你自己填写，否则不记录姓名。保存位置：本应用的课堂数据库（`{path}`）。"
              "保存时长：直到老师删除课堂，最长为开设或最近一次续期后的 {days} 天。",
    },
    "class.student_title": {"en": "### I'm a student", "zh": "### 我是学生"},
    "class.teacher_title": {"en": "### I'm the teacher", "zh": "### 我是老师"},
    "class.join": {"en": "Class code", "zh": "课堂代码"},
    "class.join_placeholder": {"en": "e.g. ABCD-EFGH", "zh": "例如 ABCD-EFGH"},
    "class.join_go": {"en": "Join", "zh": "加入"},
    "class.title": {"en": "Class name (optional)", "zh": "课堂名称（可选）"},
    "class.create": {"en": "Open a new class", "zh": "开设新课堂"},
    "class.code_md": {"en": "## Class code: `{code}`\n{title}", "zh": "## 课堂代码：`{code}`\n{title}"},
    "class.link": {"en": "Join link", "zh": "加入链接"},
    "class.teacher_key": {"en": "Teacher key: shown only now. Write it down: it opens the dashboard from any "
                                "browser.", "zh": "教师密钥：只显示这一次。请记下来，它可以在任何浏览器上打开教师面板。"},
    # The teacher key's private step, before anything meant for the room
    "class.key_title": {"en": "### Your teacher key: private, not for the projector",
                        "zh": "### 你的教师密钥：请保密，不要投影"},
    "class.key_hint": {
        "en": "With the class code it opens this class's dashboard from any browser (remove drawings, export, delete "
              "the class). It is shown only now: copy it, or download the teacher card, before you go on. The class's "
              "screen that follows does not show it.",
        "zh": "它和课堂代码一起可以在任何浏览器上打开本课堂的教师面板（删除书写、导出、删除课堂）。它只显示这一次："
              "请先复制它，或下载教师卡片，再继续。接下来给全班看的画面上不会显示它。",
    },
    "class.card": {"en": "⬇ Download the teacher card", "zh": "⬇ 下载教师卡片"},
    "class.card_file": {"en": "Teacher card (keep it private)", "zh": "教师卡片（请保密）"},
    "class.card_text": {
        "en": "Teacher card: {title}\n\nClass code: {code}\nTeacher key: {teacher_key}\nJoin link for students: {link}\n"
              "Kept until: {expires}\n\nTo open the dashboard again: the Class tab, \"Open the dashboard of a class\", "
              "this code and this key. Keep this card private: the key opens the dashboard from any browser.\n",
        "zh": "教师卡片：{title}\n\n课堂代码：{code}\n教师密钥：{teacher_key}\n学生加入链接：{link}\n保存至：{expires}\n\n"
              "再次打开教师面板：在“课堂”页点“打开课堂的教师面板”，填入这个代码和这个密钥。请保管好这张卡片："
              "密钥可以在任何浏览器上打开教师面板。\n",
    },
    "class.show_screen": {"en": "Show the class's screen ▶", "zh": "显示给全班看的画面 ▶"},
    # The projector view: for the room, no controls that change anything, no key
    "class.projector": {"en": "📽 Projector view", "zh": "📽 投影画面"},
    "class.projector_back": {"en": "← Dashboard", "zh": "← 教师面板"},
    "class.projector_code": {"en": "Class code", "zh": "课堂代码"},
    "class.projector_join": {"en": "Scan to join, or type the code", "zh": "扫码加入，或输入课堂代码"},
    "class.projector_stats": {"en": "**{accuracy}** right · {count:plural:drawing:drawings} · "
                                    "{students:plural:student:students}",
                              "zh": "答对 **{accuracy}** · {count} 幅书写 · {students} 名学生"},
    "class.projector_none": {"en": "No drawings yet", "zh": "还没有书写"},
    # The leaderboard's column headers (ui/class_runs.COLUMNS)
    "class.board.col.nickname": {"en": "nickname", "zh": "昵称"},
    "class.board.col.size": {"en": "size", "zh": "网络大小"},
    "class.board.col.lr": {"en": "learning rate", "zh": "学习率"},
    "class.board.col.epochs": {"en": "epochs", "zh": "轮数"},
    "class.board.col.augment": {"en": "augmentation", "zh": "数据增强"},
    "class.board.col.images": {"en": "images", "zh": "图片数"},
    "class.board.col.test": {"en": "test %", "zh": "测试 %"},
    "class.board.col.class": {"en": "class %", "zh": "全班 %"},
    "class.board.col.parameters": {"en": "parameters", "zh": "参数量"},
    "class.board.col.seconds": {"en": "seconds", "zh": "秒"},
    "class.open_title": {"en": "#### Open the dashboard of a class", "zh": "#### 打开课堂的教师面板"},
    "class.dash_code": {"en": "Class code", "zh": "课堂代码"},
    "class.dash_key": {"en": "Teacher key", "zh": "教师密钥"},
    "class.open": {"en": "Open the dashboard", "zh": "打开教师面板"},
    "class.nickname": {"en": "Nickname (optional)", "zh": "昵称（可选）"},
    "class.nickname_placeholder": {"en": "leave empty to stay anonymous", "zh": "留空即匿名"},
    "class.undo": {"en": "↶ Undo", "zh": "↶ 撤销"},
    "class.clear": {"en": "Clear", "zh": "清除"},
    "class.leave": {"en": "Leave the class", "zh": "离开课堂"},
    "class.mine": {"en": "My drawings in this class", "zh": "我在这个课堂的书写"},
    "class.mine_caption": {"en": "#{id}: {label} (network: {answer})", "zh": "#{id}：{label}（网络：{answer}）"},
    "class.joined": {"en": "**Class {code}** {title} · draw a digit, then press the button of the digit you meant.",
                     "zh": "**课堂 {code}** {title} · 写一个数字，然后点你写的那个数字的按钮。"},
    "class.given": {"en": "You have given **{count:plural:drawing:drawings}**.", "zh": "你已经提交了 **{count}** 幅书写。"},
    "class.saved": {"en": "✅ Saved as **{label}** ({verdict}). You have given **{count:plural:drawing:drawings}**.",
                    "zh": "✅ 已保存为 **{label}**（{verdict}）。你已经提交了 **{count}** 幅书写。"},
    "class.verdict_right": {"en": "the network got it right", "zh": "网络答对了"},
    "class.verdict_wrong": {"en": "the network said {answer}", "zh": "网络说是 {answer}"},
    "class.msg.draw_first": {"en": "✏️ Draw a digit first, then press its button.", "zh": "✏️ 请先写一个数字，再点它的按钮。"},
    "class.msg.not_joined": {"en": "⚠️ Join a class first.", "zh": "⚠️ 请先加入一个课堂。"},
    "class.msg.no_class": {"en": "⚠️ There is no open class with this code. Check the code with your teacher.",
                           "zh": "⚠️ 没有这个代码的课堂。请向老师核对代码。"},
    "class.msg.slow_down": {"en": "⚠️ Too many tries from here. Wait {minutes} min and try again.",
                            "zh": "⚠️ 这里的尝试次数太多了。请等待 {minutes} 分钟后再试。"},
    "class.msg.refused": {"en": "⚠️ This class code and teacher key do not open a dashboard.",
                          "zh": "⚠️ 这个课堂代码和教师密钥无法打开教师面板。"},
    "class.msg.class_full": {"en": "⚠️ This class has reached its limit of {limit} drawings.",
                             "zh": "⚠️ 这个课堂的书写数量已达上限 {limit} 幅。"},
    "class.msg.student_full": {"en": "⚠️ You have given the most drawings one student can ({limit}). Thank you!",
                               "zh": "⚠️ 你提交的书写已达每位学生的上限（{limit} 幅）。谢谢！"},
    "class.msg.too_many_students": {"en": "⚠️ This class is full ({limit} students).",
                                    "zh": "⚠️ 这个课堂人数已满（{limit} 名学生）。"},
    "class.msg.too_many_classes": {"en": "⚠️ This server has too many open classes; try again later.",
                                   "zh": "⚠️ 本服务器开设的课堂太多了，请稍后再试。"},
    "class.msg.many_classes_here": {
        "en": "⚠️ {limit} classes were opened or renewed from this network in the last {days} days, the most one network "
              "may. Reuse an open class, or ask for a school server of your own.",
        "zh": "⚠️ 过去 {days} 天里，这个网络已开设或续期了 {limit} 个课堂，已达每个网络的上限。请继续使用已开设的课堂，"
              "或为学校部署自己的服务器。"},
    "class.msg.gone": {"en": "⚠️ This class is closed.", "zh": "⚠️ 这个课堂已关闭。"},
    "class.msg.created": {"en": "Class opened. Keep the teacher key first, then show the class's screen.",
                          "zh": "课堂已开设。请先保存好教师密钥，再显示给全班看的画面。"},
    "class.dashboard_title": {
        "en": "## Dashboard: class `{code}` {title}\n{count:plural:drawing:drawings} from {students:plural:student:students} · kept until {expires}",
        "zh": "## 教师面板：课堂 `{code}` {title}\n共 {count} 幅书写，来自 {students} 名学生 · 保存至 {expires}",
    },
    "class.model": {"en": "Model to judge the class's drawings", "zh": "用于评判全班书写的模型"},
    "class.accuracy": {"en": "### Class accuracy: **{accuracy}** ({correct} of {total})",
                       "zh": "### 全班准确率：**{accuracy}**（{total} 幅中对了 {correct} 幅）"},
    "class.accuracy_none": {"en": "### Class accuracy: no drawings yet", "zh": "### 全班准确率：还没有书写"},
    "class.wall": {"en": "#### The newest drawings (live)", "zh": "#### 最新的书写（实时）"},
    "class.wall_empty": {"en": "No drawings yet: students join with the code or the QR code.",
                         "zh": "还没有书写：学生可以用课堂代码或二维码加入。"},
    "class.wall_caption": {"en": "#{id} · given {label} · network {answer} ({prob})",
                           "zh": "#{id} · 标为 {label} · 网络 {answer}（{prob}）"},
    "class.confusion": {"en": "Confusion matrix (rows: the digit given, columns: the model's answer). Click a cell "
                              "to see its drawings.",
                        "zh": "混淆矩阵（行：给出的数字，列：模型的回答）。点击格子查看其中的书写。"},
    "class.confusion_corner": {"en": "given \\ answer", "zh": "给出 \\ 回答"},
    "class.cell": {"en": "Drawings in the chosen cell", "zh": "所选格子中的书写"},
    "class.cell_caption": {"en": "#{id} {nickname}", "zh": "#{id} {nickname}"},
    "class.remove_id": {"en": "Drawing number (#)", "zh": "书写编号（#）"},
    "class.remove": {"en": "Remove this drawing", "zh": "删除这幅书写"},
    "class.remove_nickname_pick": {"en": "Nickname", "zh": "昵称"},
    "class.remove_nickname": {"en": "Remove everything of this nickname", "zh": "删除这个昵称的所有书写"},
    "class.remove_student": {"en": "Remove everything of the student who drew #", "zh": "删除画出该编号书写的学生的所有书写"},
    "class.remove_anonymous": {"en": "Remove every drawing without a nickname from # on",
                               "zh": "删除从该编号起所有没有昵称的书写"},
    "class.joining": {"en": "New students may join", "zh": "允许新学生加入"},
    "class.joining_open": {"en": "Joining is open.", "zh": "已开放加入。"},
    "class.joining_closed": {"en": "Joining is closed: students who joined already go on drawing.",
                             "zh": "已关闭加入：已加入的学生可以继续书写。"},
    "class.msg.joining_closed": {"en": "⚠️ The teacher has closed joining for this class.",
                                 "zh": "⚠️ 老师已关闭这个课堂的加入。"},
    "class.msg.busy": {"en": "⚠️ Many drawings or joins are coming from here right now. Wait {minutes} min and "
                             "try again.",
                       "zh": "⚠️ 这里此刻的书写或加入太多了。请等待 {minutes} 分钟后再试。"},
    "class.msg.not_drawn": {"en": "⚠️ This does not look like a handwritten digit. Clear the canvas and draw one.",
                            "zh": "⚠️ 这看起来不像手写的数字。请清除画板后写一个数字。"},
    "class.msg.server_full": {"en": "⚠️ This server's class storage is full. Ask your teacher to export and delete "
                                    "old classes.",
                              "zh": "⚠️ 本服务器的课堂存储已满。请老师导出并删除旧课堂。"},
    "class.removed": {"en": "Removed {count:plural:drawing:drawings}.", "zh": "已删除 {count} 幅书写。"},
    "class.export": {"en": "Export the dataset (zip: PNGs, labels.csv, IDX)", "zh": "导出数据集（zip：PNG、labels.csv、IDX）"},
    "class.export_file": {"en": "Dataset", "zh": "数据集"},
    "class.renew": {"en": "Renew: keep the class longer", "zh": "续期：延长课堂保存时间"},
    "class.delete_confirm": {"en": "Yes, delete the class and all its drawings", "zh": "是的，删除课堂及其所有书写"},
    "class.delete": {"en": "Delete the class", "zh": "删除课堂"},
    "class.deleted": {"en": "The class and all its drawings are deleted.", "zh": "课堂及其所有书写已删除。"},
    "class.delete_tick": {"en": "⚠️ Tick the box first: deleting cannot be undone.",
                          "zh": "⚠️ 请先勾选确认框：删除后无法恢复。"},
    "class.close_dashboard": {"en": "Close the dashboard", "zh": "关闭教师面板"},
    # Train on our class
    "class.train_title": {
        "en": "#### Train on our class\nFine-tunes a copy of the model chosen above on the class's drawings (mixed with "
              "2,000 MNIST images so it keeps reading everyone else; about half a minute). Every 5th drawing of each "
              "digit, in the order given, is held out: both models are measured on those alone. The class model is "
              "then selectable on the students' phones. It is kept in this server's memory only, one per class: "
              "training again replaces it, and it is gone when the class is deleted or the server restarts "
              "(the drawings stay).",
        "zh": "#### 用全班的书写训练\n在全班的书写上微调上面所选模型的一个副本（混入 2,000 张 MNIST 图像，以免忘记其他人的写法；"
              "约半分钟）。每个数字按提交顺序每 5 幅留出 1 幅：两个模型只在这些留出的书写上比较。之后学生可在手机上选用这个课堂模型。"
              "它只保存在本服务器的内存中，每个课堂一个：再次训练会替换它；删除课堂或服务器重启后它就没有了（书写仍然保留）。",
    },
    "class.train": {"en": "Train on our class", "zh": "用全班的书写训练"},
    "class.train_stop": {"en": "Stop (keep what was learned)", "zh": "停止（保留已学到的）"},
    "class.train_few": {"en": "⚠️ The class needs at least {min} drawings to train on ({count} so far).",
                        "zh": "⚠️ 至少需要 {min} 幅书写才能训练（目前 {count} 幅）。"},
    "class.train_busy": {"en": "⚠️ This class is already training.", "zh": "⚠️ 这个课堂正在训练中。"},
    "class.train_queued": {"en": "⏳ Waiting for a free training slot (position {position}).",
                           "zh": "⏳ 正在等待空闲的训练位置（第 {position} 位）。"},
    "class.train_running": {"en": "🏋️ Training on {count:plural:drawing:drawings}: {percent} ({seconds} s).",
                            "zh": "🏋️ 正在用 {count} 幅书写训练：{percent}（{seconds} 秒）。"},
    "class.train_failed": {"en": "⚠️ The training failed: {error}", "zh": "⚠️ 训练失败：{error}"},
    "class.train_cancelled": {"en": "The training was cancelled.", "zh": "训练已取消。"},
    "class.train_done": {"en": "✅ The class model is ready ({seconds} s){stopped}. Students can now pick "
                               "\"Our class's model\" on their phones.",
                         "zh": "✅ 课堂模型已就绪（{seconds} 秒）{stopped}。学生现在可以在手机上选择“我们课堂的模型”。"},
    "class.train_stopped": {"en": ", stopped early", "zh": "，已提前停止"},
    "class.train_table": {
        "en": "| model | held-out class drawings ({held}) | MNIST test set (10,000) |\n|---|---:|---:|\n"
              "| {base} (MNIST) | {mine_before} | {mnist_before} |\n| class-tuned | **{mine_after}** | {mnist_after} |\n\n"
              "Taught with {taught:plural:drawing:drawings}; held out (every 5th of each digit): {ids}.",
        "zh": "| 模型 | 留出的全班书写（{held} 幅） | MNIST 测试集（10,000） |\n|---|---:|---:|\n"
              "| {base}（MNIST） | {mine_before} | {mnist_before} |\n| 课堂微调 | **{mine_after}** | {mnist_after} |\n\n"
              "用 {taught} 幅书写训练；留出（每个数字每 5 幅取 1 幅）：{ids}。",
    },
    "class.train_none_held": {"en": "none (fewer than 5 of every digit)", "zh": "无（每个数字都少于 5 幅）"},
    "class.student_model": {"en": "Which network reads my drawings", "zh": "由哪个网络识别我的书写"},
    "class.use_base": {"en": "The MNIST model", "zh": "MNIST 模型"},
    "class.use_class": {"en": "Our class's model", "zh": "我们课堂的模型"},
    "class.no_class_model": {"en": "Your class has no class model yet: the MNIST model answers.",
                             "zh": "你的课堂还没有课堂模型：由 MNIST 模型来回答。"},
    "class.class_model_on": {"en": "Our class's model answers now.", "zh": "现在由我们课堂的模型来回答。"},
    "class.base_model_on": {"en": "The MNIST model answers now.", "zh": "现在由 MNIST 模型来回答。"},

    # Everyone trains: a student's own network (class presets) and the class's leaderboard
    "class.own.open": {"en": "🧠 Train a network", "zh": "🧠 训练一个网络"},
    "class.own.title": {"en": "### Train your own network\nPick, press Start, and see where it lands on the class's "
                                "leaderboard.",
                        "zh": "### 训练你自己的网络\n做出选择，点“开始”，看看它在全班排行榜上排第几。"},
    "class.own.size": {"en": "Network size", "zh": "网络大小"},
    "class.own.size_why": {"en": "More channels see more kinds of strokes, but every step costs more.",
                           "zh": "通道越多，能识别的笔画种类越多，但每一步都更耗时。"},
    "class.own.lr": {"en": "Learning rate", "zh": "学习率"},
    "class.own.lr_why": {"en": "How big each correction is: too small learns slowly, too big overshoots.",
                         "zh": "每次修正的幅度：太小学得慢，太大会来回跳过最佳点。"},
    "class.own.epochs": {"en": "Epochs", "zh": "训练轮数"},
    "class.own.epochs_why": {"en": "How many times it sees every training image: more practice, more time.",
                             "zh": "每张训练图看几遍：练习越多，用时越长。"},
    "class.own.augment": {"en": "Augmentation", "zh": "数据增强"},
    "class.own.augment_why": {"en": "Tilted, shifted, thicker copies of the images: closer to how we draw, "
                                    "harder to learn.",
                              "zh": "把图片稍微旋转、平移、加粗：更像我们手写的样子，但更难学。"},
    "class.own.images": {"en": "Training images", "zh": "训练图片数量"},
    "class.own.images_why": {"en": "More examples teach more, and take longer.", "zh": "例子越多学得越多，但用时也越长。"},
    "class.own.opt.small": {"en": "small", "zh": "小"},
    "class.own.opt.medium": {"en": "medium", "zh": "中"},
    "class.own.opt.large": {"en": "large", "zh": "大"},
    "class.own.opt.low": {"en": "low (0.001)", "zh": "低（0.001）"},
    "class.own.opt.lr_medium": {"en": "medium (0.01)", "zh": "中（0.01）"},
    "class.own.opt.high": {"en": "high (0.1)", "zh": "高（0.1）"},
    "class.own.opt.off": {"en": "off", "zh": "关"},
    "class.own.opt.on": {"en": "on", "zh": "开"},
    "class.own.start": {"en": "Start", "zh": "开始"},
    "class.own.queued": {"en": "⏳ Number {position} in line: yours should start in about {seconds} s.",
                         "zh": "⏳ 你排在第 {position} 位：预计约 {seconds} 秒后开始。"},
    "class.own.preparing": {"en": "⏳ Starting…", "zh": "⏳ 正在启动……"},
    "class.own.running": {"en": "🏃 Training: {percent} done, {seconds} s so far.",
                          "zh": "🏃 正在训练：已完成 {percent}，已用 {seconds} 秒。"},
    "class.own.card": {"en": "**Your network:** {accuracy} on the MNIST test set, {class_accuracy} on our class's "
                             "drawings · {parameters} parameters · {seconds} s. It is on the leaderboard as #{entry}.",
                       "zh": "**你的网络：** MNIST 测试集准确率 {accuracy}，在全班书写上 {class_accuracy} · "
                             "{parameters} 个参数 · {seconds} 秒。它已登上排行榜，编号 #{entry}。"},
    "class.own.not_recorded": {"en": "Your network trained ({accuracy}) but is not on the leaderboard: {why}.",
                               "zh": "你的网络已训练完（{accuracy}），但没有登上排行榜：{why}。"},
    "class.own.failed": {"en": "The training did not run: {error}", "zh": "训练没有运行：{error}"},
    "class.own.cancelled": {"en": "The training was cancelled.", "zh": "训练已取消。"},
    "class.own.none": {"en": "no drawings yet", "zh": "还没有书写"},
    "class.msg.bad_choice": {"en": "Pick one of the options shown.", "zh": "请从给出的选项中选择。"},
    "class.msg.no_run": {"en": "No run with that number on this class's leaderboard.",
                         "zh": "这个课堂的排行榜上没有这个编号的训练。"},
    "class.msg.old_run": {"en": "This run was trained by an earlier version of the app, whose network has changed "
                                "since: it can no longer answer. Train it again to use it.",
                          "zh": "这个训练来自本应用的旧版本，其网络结构已经改变，无法再用来回答。请重新训练后再使用。"},
    "class.board.title": {"en": "### Leaderboard: everyone's networks\nClick a column to sort it.",
                          "zh": "### 排行榜：每个人的网络\n点击列名即可排序。"},
    "class.board.table": {"en": "Finished trainings", "zh": "已完成的训练"},
    "class.board.run": {"en": "Run #", "zh": "训练编号 #"},
    "class.board.show": {"en": "Show its confusion matrix and curves", "zh": "查看它的混淆矩阵和曲线"},
    "class.board.adopt": {"en": "Make it the class's model", "zh": "设为课堂模型"},
    "class.board.adopted": {"en": "Run #{entry} is now the class's model: students who pick \"Our class's model\" "
                                  "get its answers.",
                            "zh": "训练 #{entry} 现在是课堂模型：选择“我们课堂的模型”的学生会得到它的回答。"},
    "class.board.detail": {"en": "**Run #{entry}** by {nickname}: {accuracy} on MNIST test, {class_accuracy} on our "
                                 "class's drawings. Confusion matrix (rows: true digit, columns: answer):",
                           "zh": "**训练 #{entry}**（{nickname}）：MNIST 测试 {accuracy}，全班书写 {class_accuracy}。"
                                 "混淆矩阵（行：真实数字，列：回答）："},
    "class.board.curve": {"en": "Training loss", "zh": "训练损失"},
}
