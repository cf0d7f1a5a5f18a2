<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>AddressScreen</name>
    <message>
        <location filename="../address_screen.py" line="96"/>
        <source>Postal address for the certificate</source>
        <translation>证书邮寄地址</translation>
    </message>
    <message>
        <location filename="../address_screen.py" line="98"/>
        <source>If you pass, the paper certificate is mailed to this address within 30 days.</source>
        <translation>如果您通过考试，纸质证书将在 30 天内寄往此地址。</translation>
    </message>
    <message>
        <location filename="../address_screen.py" line="101"/>
        <source>Recipient name</source>
        <translation>收件人姓名</translation>
    </message>
    <message>
        <location filename="../address_screen.py" line="102"/>
        <source>Mobile phone</source>
        <translation>手机号码</translation>
    </message>
    <message>
        <location filename="../address_screen.py" line="103"/>
        <source>Address</source>
        <translation>详细地址</translation>
    </message>
    <message>
        <location filename="../address_screen.py" line="104"/>
        <source>Postcode</source>
        <translation>邮政编码</translation>
    </message>
    <message>
        <location filename="../address_screen.py" line="109"/>
        <source>Province, city, district, street, building, room</source>
        <translation>省、市、区、街道、楼栋、房间号</translation>
    </message>
    <message>
        <location filename="../address_screen.py" line="111"/>
        <source>Save and continue</source>
        <translation>保存并继续</translation>
    </message>
</context>
<context>
    <name>BannerArea</name>
    <message>
        <location filename="../banners.py" line="133"/>
        <source>Another screen was connected. This was recorded automatically. Disconnect it: the exam allows one screen only.</source>
        <translation>检测到连接了另一台显示器，系统已自动记录。请断开它：考试只允许使用一台显示器。</translation>
    </message>
    <message>
        <location filename="../banners.py" line="143"/>
        <source>Warnings left: {left} of {limit}.</source>
        <translation>剩余警告次数：{left}/{limit}。</translation>
    </message>
    <message>
        <location filename="../banners.py" line="145"/>
        <source>When none are left, your exam is ended.</source>
        <translation>警告次数用完时，您的考试将被终止。</translation>
    </message>
    <message>
        <location filename="../banners.py" line="148"/>
        <source>When none are left, the proctors are alerted; your exam goes on.</source>
        <translation>警告次数用完时，系统将通知监考老师；考试继续进行。</translation>
    </message>
    <message>
        <location filename="../banners.py" line="154"/>
        <source>You left the exam screen. This was recorded automatically for the proctors. Stay in the exam window until you submit.</source>
        <translation>您离开了考试界面，系统已自动记录并供监考老师查看。交卷前请始终停留在考试窗口。</translation>
    </message>
    <message>
        <location filename="../banners.py" line="163"/>
        <source>Warning from the proctor: {text}</source>
        <translation>监考老师的警告：{text}</translation>
    </message>
    <message>
        <location filename="../banners.py" line="170"/>
        <source>Connection lost — your answers are kept and will be sent when the connection returns.</source>
        <translation>网络连接已断开——您的答案已保存在本机，连接恢复后将自动提交。</translation>
    </message>
    <message>
        <location filename="../banners.py" line="165"/>
        <source>Message from the proctor: {text}</source>
        <translation>监考老师的消息：{text}</translation>
    </message>
</context>
<context>
    <name>BusyScreen</name>
    <message>
        <location filename="../message_screen.py" line="131"/>
        <source>Your answers were handed in</source>
        <translation>您的答卷已提交</translation>
    </message>
    <message>
        <location filename="../message_screen.py" line="132"/>
        <source>Waiting for your score…</source>
        <translation>正在等待成绩…</translation>
    </message>
    <message>
        <location filename="../message_screen.py" line="134"/>
        <source>Time is up</source>
        <translation>考试时间到</translation>
    </message>
    <message>
        <location filename="../message_screen.py" line="136"/>
        <source>Your saved answers were handed in. Waiting for your score…</source>
        <translation>您已保存的答案已提交，正在等待成绩…</translation>
    </message>
    <message>
        <location filename="../message_screen.py" line="139"/>
        <source>Connecting to the exam server…</source>
        <translation>正在连接考试服务器…</translation>
    </message>
    <message>
        <location filename="../message_screen.py" line="140"/>
        <source>This usually takes a few seconds.</source>
        <translation>通常只需几秒钟。</translation>
    </message>
    <message>
        <location filename="../message_screen.py" line="141"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
</context>
<context>
    <name>CheckScreen</name>
    <message>
        <location filename="../check_screen.py" line="233"/>
        <source>Check your computer</source>
        <translation>检测您的电脑</translation>
    </message>
    <message>
        <location filename="../check_screen.py" line="236"/>
        <source>The exam needs a laptop or desktop with a camera and a microphone, and a stable network of at least 1 Mb/s.</source>
        <translation>考试需要一台带摄像头和麦克风的笔记本或台式电脑，以及不低于 1 Mb/s 的稳定网络。</translation>
    </message>
    <message>
        <location filename="../check_screen.py" line="240"/>
        <source>Check again</source>
        <translation>重新检测</translation>
    </message>
    <message>
        <location filename="../check_screen.py" line="241"/>
        <source>Continue</source>
        <translation>继续</translation>
    </message>
    <message>
        <location filename="../check_screen.py" line="246"/>
        <source>Waiting</source>
        <translation>等待中</translation>
    </message>
    <message>
        <location filename="../check_screen.py" line="247"/>
        <source>Checking…</source>
        <translation>检测中…</translation>
    </message>
    <message>
        <location filename="../check_screen.py" line="248"/>
        <source>Passed</source>
        <translation>通过</translation>
    </message>
    <message>
        <location filename="../check_screen.py" line="249"/>
        <source>Warning</source>
        <translation>警告</translation>
    </message>
    <message>
        <location filename="../check_screen.py" line="250"/>
        <source>Failed</source>
        <translation>未通过</translation>
    </message>
    <message>
        <location filename="../check_screen.py" line="291"/>
        <source>Checked {done} of {total}…</source>
        <translation>已检测 {done}/{total} 项…</translation>
    </message>
    <message>
        <location filename="../check_screen.py" line="296"/>
        <source>Fix the failed checks, then check again.</source>
        <translation>请处理未通过的项目，然后重新检测。</translation>
    </message>
    <message>
        <location filename="../check_screen.py" line="299"/>
        <source>Your computer is ready for the exam.</source>
        <translation>您的电脑已满足考试要求。</translation>
    </message>
</context>
<context>
    <name>CheckTexts</name>
    <message>
        <location filename="../check_screen.py" line="79"/>
        <source>screen(s)</source>
        <translation>个屏幕</translation>
    </message>
    <message>
        <location filename="../check_screen.py" line="80"/>
        <source>virtual camera(s)</source>
        <translation>个虚拟摄像头</translation>
    </message>
    <message>
        <location filename="../check_screen.py" line="81"/>
        <source>sign(s)</source>
        <translation>个迹象</translation>
    </message>
    <message>
        <location filename="../check_screen.py" line="89"/>
        <source>Operating system</source>
        <translation>操作系统</translation>
    </message>
    <message>
        <location filename="../check_screen.py" line="90"/>
        <source>Camera</source>
        <translation>摄像头</translation>
    </message>
    <message>
        <location filename="../check_screen.py" line="91"/>
        <source>Virtual cameras</source>
        <translation>虚拟摄像头</translation>
    </message>
    <message>
        <location filename="../check_screen.py" line="92"/>
        <source>Microphone</source>
        <translation>麦克风</translation>
    </message>
    <message>
        <location filename="../check_screen.py" line="93"/>
        <source>Screens</source>
        <translation>显示器</translation>
    </message>
    <message>
        <location filename="../check_screen.py" line="94"/>
        <source>Virtual machine</source>
        <translation>虚拟机</translation>
    </message>
    <message>
        <location filename="../check_screen.py" line="95"/>
        <source>Connection to the exam server</source>
        <translation>与考试服务器的连接</translation>
    </message>
    <message>
        <location filename="../check_screen.py" line="96"/>
        <source>Download speed (at least 1 Mb/s)</source>
        <translation>下载速度（至少 1 Mb/s）</translation>
    </message>
    <message>
        <location filename="../check_screen.py" line="97"/>
        <source>Upload speed</source>
        <translation>上传速度</translation>
    </message>
    <message>
        <location filename="../check_screen.py" line="98"/>
        <source>Computer clock</source>
        <translation>电脑时钟</translation>
    </message>
    <message>
        <location filename="../check_screen.py" line="106"/>
        <source>Run the check again. If this repeats, contact the exam support team.</source>
        <translation>请重新检测。如问题重复出现，请联系考试支持团队。</translation>
    </message>
    <message>
        <location filename="../check_screen.py" line="109"/>
        <source>Connect a camera, close other programs that use it, and allow this app to use it.</source>
        <translation>请连接摄像头，关闭其他正在使用摄像头的程序，并允许本应用使用摄像头。</translation>
    </message>
    <message>
        <location filename="../check_screen.py" line="113"/>
        <source>Uncover the camera lens and turn on a light in front of you.</source>
        <translation>请打开镜头遮挡，并打开您前方的灯。</translation>
    </message>
    <message>
        <location filename="../check_screen.py" line="116"/>
        <source>Close other programs that use the camera, then unplug and reconnect it.</source>
        <translation>请关闭其他使用摄像头的程序，然后重新插拔摄像头。</translation>
    </message>
    <message>
        <location filename="../check_screen.py" line="119"/>
        <source>Use a camera with at least 320×240 pixels and 5 frames a second.</source>
        <translation>请使用分辨率不低于 320×240、帧率不低于每秒 5 帧的摄像头。</translation>
    </message>
    <message>
        <location filename="../check_screen.py" line="122"/>
        <source>Better light and a 640×480 camera at 10 frames a second or more help the proctor.</source>
        <translation>更好的光线以及 640×480、每秒 10 帧以上的摄像头有助于监考。</translation>
    </message>
    <message>
        <location filename="../check_screen.py" line="126"/>
        <source>Connect a microphone, allow this app to use it, and choose it as the input device.</source>
        <translation>请连接麦克风，允许本应用使用，并将其设为输入设备。</translation>
    </message>
    <message>
        <location filename="../check_screen.py" line="130"/>
        <source>Check that the microphone is not muted, then say a few words during the check.</source>
        <translation>请确认麦克风未静音，并在检测时说几句话。</translation>
    </message>
    <message>
        <location filename="../check_screen.py" line="134"/>
        <source>Use a computer with Windows 7 or later, or macOS.</source>
        <translation>请使用 Windows 7 及以上版本或 macOS 的电脑。</translation>
    </message>
    <message>
        <location filename="../check_screen.py" line="137"/>
        <source>For the real exam, use Windows 7 or later, or macOS.</source>
        <translation>正式考试请使用 Windows 7 及以上版本或 macOS。</translation>
    </message>
    <message>
        <location filename="../check_screen.py" line="140"/>
        <source>Check your internet connection and that the exam server address is right.</source>
        <translation>请检查网络连接，并确认考试服务器地址正确。</translation>
    </message>
    <message>
        <location filename="../check_screen.py" line="144"/>
        <source>Move closer to the Wi-Fi router or use a cable, and stop other downloads and videos.</source>
        <translation>请靠近 Wi-Fi 路由器或使用网线，并停止其他下载和视频。</translation>
    </message>
    <message>
        <location filename="../check_screen.py" line="148"/>
        <source>Stop uploads, backups and video calls during the exam.</source>
        <translation>考试期间请停止上传、备份和视频通话。</translation>
    </message>
    <message>
        <location filename="../check_screen.py" line="151"/>
        <source>Use a cable or a better network; a mobile hotspot far from the mast is too slow.</source>
        <translation>请使用网线或更好的网络；信号弱的手机热点速度太慢。</translation>
    </message>
    <message>
        <location filename="../check_screen.py" line="155"/>
        <location filename="../check_screen.py" line="158"/>
        <source>Use a cable or move closer to the Wi-Fi router.</source>
        <translation>请使用网线或靠近 Wi-Fi 路由器。</translation>
    </message>
    <message>
        <location filename="../check_screen.py" line="161"/>
        <source>Set the computer clock to update automatically.</source>
        <translation>请将电脑时钟设置为自动同步。</translation>
    </message>
    <message>
        <location filename="../check_screen.py" line="164"/>
        <source>During the exam, use exactly one screen.</source>
        <translation>考试期间只能使用一个显示器。</translation>
    </message>
    <message>
        <location filename="../check_screen.py" line="167"/>
        <source>Disconnect the extra screen (and turn off screen mirroring), then check again.</source>
        <translation>请断开多余的显示器（并关闭屏幕镜像），然后重新检测。</translation>
    </message>
    <message>
        <location filename="../check_screen.py" line="171"/>
        <source>Choose your real camera and close programs such as OBS, ManyCam or DroidCam.</source>
        <translation>请选择真实的摄像头，并关闭 OBS、ManyCam、DroidCam 等程序。</translation>
    </message>
    <message>
        <location filename="../check_screen.py" line="175"/>
        <source>Close it before the exam; using it during the exam is a violation.</source>
        <translation>请在考前关闭；考试中使用属于违规行为。</translation>
    </message>
    <message>
        <location filename="../check_screen.py" line="178"/>
        <source>Take the exam on a real computer, not inside a virtual machine.</source>
        <translation>请在真实电脑上参加考试，不要在虚拟机中运行。</translation>
    </message>
    <message>
        <location filename="../check_screen.py" line="181"/>
        <source>If you run the exam inside a virtual machine, move to the real computer.</source>
        <translation>如果您在虚拟机中运行本应用，请改用真实电脑。</translation>
    </message>
</context>
<context>
    <name>EntryScreen</name>
    <message>
        <location filename="../entry_screen.py" line="87"/>
        <source>Enter the server address from your exam notice.</source>
        <translation>请输入考试通知中的服务器地址。</translation>
    </message>
    <message>
        <location filename="../entry_screen.py" line="88"/>
        <source>Enter the admission ticket from your exam notice.</source>
        <translation>请输入考试通知中的准考证号。</translation>
    </message>
    <message>
        <location filename="../entry_screen.py" line="93"/>
        <source>Online exam</source>
        <translation>在线考试</translation>
    </message>
    <message>
        <location filename="../entry_screen.py" line="96"/>
        <source>Enter the server address and the admission ticket from your exam notice. Check your computer and run the trial exam before the exam day.</source>
        <translation>请输入考试通知中的服务器地址和准考证号。请在考试日之前检测电脑并参加模拟考试。</translation>
    </message>
    <message>
        <location filename="../entry_screen.py" line="100"/>
        <source>Server address</source>
        <translation>服务器地址</translation>
    </message>
    <message>
        <location filename="../entry_screen.py" line="101"/>
        <source>Admission ticket</source>
        <translation>准考证号</translation>
    </message>
    <message>
        <location filename="../entry_screen.py" line="102"/>
        <source>Paste the ticket here</source>
        <translation>在此粘贴准考证号</translation>
    </message>
    <message>
        <location filename="../entry_screen.py" line="103"/>
        <source>Check my computer</source>
        <translation>检测电脑</translation>
    </message>
    <message>
        <location filename="../entry_screen.py" line="104"/>
        <source>Trial exam</source>
        <translation>模拟考试</translation>
    </message>
    <message>
        <location filename="../entry_screen.py" line="105"/>
        <source>Enter the exam</source>
        <translation>进入考试</translation>
    </message>
</context>
<context>
    <name>ExamScreen</name>
    <message>
        <location filename="../exam_screen.py" line="213"/>
        <source>Question {n}</source>
        <translation>第 {n} 题</translation>
    </message>
    <message>
        <location filename="../exam_screen.py" line="217"/>
        <source>Answered {done} of {total}</source>
        <translation>已答 {done}/{total} 题</translation>
    </message>
    <message>
        <location filename="../exam_screen.py" line="222"/>
        <source>Not answered</source>
        <translation>未作答</translation>
    </message>
    <message>
        <location filename="../exam_screen.py" line="223"/>
        <source>Saving…</source>
        <translation>保存中…</translation>
    </message>
    <message>
        <location filename="../exam_screen.py" line="224"/>
        <source>Saved</source>
        <translation>已保存</translation>
    </message>
    <message>
        <location filename="../exam_screen.py" line="310"/>
        <source>Submit the exam</source>
        <translation>交卷</translation>
    </message>
    <message>
        <location filename="../exam_screen.py" line="312"/>
        <source>Submit your answers now? You cannot change them afterwards.</source>
        <translation>现在交卷吗？交卷后将无法修改答案。</translation>
    </message>
    <message>
        <location filename="../exam_screen.py" line="314"/>
        <source>{n} question(s) are not answered yet.</source>
        <translation>还有 {n} 道题未作答。</translation>
    </message>
    <message>
        <location filename="../exam_screen.py" line="316"/>
        <location filename="../exam_screen.py" line="334"/>
        <source>Submit</source>
        <translation>交卷</translation>
    </message>
    <message>
        <location filename="../exam_screen.py" line="317"/>
        <source>Keep answering</source>
        <translation>继续答题</translation>
    </message>
    <message>
        <location filename="../exam_screen.py" line="333"/>
        <source>Time left:</source>
        <translation>剩余时间：</translation>
    </message>
    <message>
        <location filename="../exam_screen.py" line="335"/>
        <source>Previous</source>
        <translation>上一题</translation>
    </message>
    <message>
        <location filename="../exam_screen.py" line="336"/>
        <source>Next</source>
        <translation>下一题</translation>
    </message>
    <message>
        <location filename="../exam_screen.py" line="349"/>
        <source>Question {n} of {total}</source>
        <translation>第 {n} 题，共 {total} 题</translation>
    </message>
    <message>
        <location filename="../exam_screen.py" line="352"/>
        <source>Multiple choice: pick every correct option</source>
        <translation>多选题：请选出所有正确选项</translation>
    </message>
    <message>
        <location filename="../exam_screen.py" line="354"/>
        <source>Single choice</source>
        <translation>单选题</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../main_window.py" line="202"/>
        <source>Online exam</source>
        <translation>在线考试</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="204"/>
        <location filename="../main_window.py" line="564"/>
        <source>OK</source>
        <translation>确定</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="330"/>
        <source>This build has no exam runtime.</source>
        <translation>此版本不含考试运行模块。</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="487"/>
        <source>Trial exam — nothing counts</source>
        <translation>模拟考试——不计成绩</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="549"/>
        <source>A screen was connected</source>
        <translation>连接了一台显示器</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="554"/>
        <source>You left the exam screen</source>
        <translation>您离开了考试界面</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="551"/>
        <source>Message from the proctor</source>
        <translation>监考老师的消息</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="553"/>
        <source>Warning from the proctor</source>
        <translation>监考老师的警告</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="594"/>
        <source>The camera cannot be used: {error}</source>
        <translation>无法使用摄像头：{error}</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="596"/>
        <source>No camera was given to the app.</source>
        <translation>未检测到摄像头。</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="634"/>
        <source>The camera stopped: {error}</source>
        <translation>摄像头已停止工作：{error}</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="638"/>
        <source>Camera stopped</source>
        <translation>摄像头已停止</translation>
    </message>
</context>
<context>
    <name>MessageScreen</name>
    <message>
        <location filename="../message_screen.py" line="80"/>
        <source>Your exam was ended by the proctor</source>
        <translation>您的考试已被监考老师终止</translation>
    </message>
    <message>
        <location filename="../message_screen.py" line="82"/>
        <source>The proctor terminated this attempt. Your answers saved up to now are kept. Contact the exam staff if you believe this is a mistake.</source>
        <translation>监考老师终止了本次考试。已保存的答案将被保留。如您认为有误，请联系考务人员。</translation>
    </message>
    <message>
        <location filename="../message_screen.py" line="72"/>
        <source>Server message: {text}</source>
        <translation>服务器消息：{text}</translation>
    </message>
    <message>
        <location filename="../message_screen.py" line="67"/>
        <source>The proctor&apos;s reason: {text}</source>
        <translation>监考老师给出的原因：{text}</translation>
    </message>
    <message>
        <location filename="../message_screen.py" line="69"/>
        <source>Technical detail: {text}</source>
        <translation>技术细节：{text}</translation>
    </message>
    <message>
        <location filename="../message_screen.py" line="96"/>
        <source>Try again</source>
        <translation>重试</translation>
    </message>
    <message>
        <location filename="../message_screen.py" line="98"/>
        <source>Back to the start</source>
        <translation>返回首页</translation>
    </message>
</context>
<context>
    <name>PhotoScreen</name>
    <message>
        <location filename="../photo_screen.py" line="115"/>
        <source>Identity photo</source>
        <translation>身份验证拍照</translation>
    </message>
    <message>
        <location filename="../photo_screen.py" line="118"/>
        <source>Look straight into the camera with your whole face visible and nobody else in the picture. The photo is compared with your registration.</source>
        <translation>请正对摄像头，露出完整面部，画面中不要有其他人。照片将与您的报名信息进行比对。</translation>
    </message>
    <message>
        <location filename="../photo_screen.py" line="122"/>
        <source>Take the photo</source>
        <translation>拍照</translation>
    </message>
    <message>
        <location filename="../photo_screen.py" line="123"/>
        <source>Retake</source>
        <translation>重拍</translation>
    </message>
    <message>
        <location filename="../photo_screen.py" line="124"/>
        <source>Use this photo</source>
        <translation>使用这张照片</translation>
    </message>
    <message>
        <location filename="../photo_screen.py" line="137"/>
        <source>When you are ready, take the photo.</source>
        <translation>准备好后请拍照。</translation>
    </message>
    <message>
        <location filename="../photo_screen.py" line="141"/>
        <source>You may retake the photo, or use it anyway.</source>
        <translation>您可以重拍，也可以继续使用这张照片。</translation>
    </message>
    <message>
        <location filename="../photo_screen.py" line="144"/>
        <source>The photo looks good. Use it, or retake it.</source>
        <translation>照片看起来不错。可以使用，也可以重拍。</translation>
    </message>
    <message>
        <location filename="../photo_screen.py" line="146"/>
        <source>Checking your photo…</source>
        <translation>正在验证您的照片…</translation>
    </message>
    <message>
        <location filename="../photo_screen.py" line="148"/>
        <source>The photo was not accepted:</source>
        <translation>照片未通过验证：</translation>
    </message>
    <message>
        <location filename="../photo_screen.py" line="152"/>
        <source>Please retake it.</source>
        <translation>请重新拍照。</translation>
    </message>
</context>
<context>
    <name>ResultScreen</name>
    <message>
        <location filename="../result_screen.py" line="68"/>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <location filename="../result_screen.py" line="69"/>
        <source>Run the trial again</source>
        <translation>再做一次模拟考试</translation>
    </message>
    <message>
        <location filename="../result_screen.py" line="71"/>
        <source>Result</source>
        <translation>成绩</translation>
    </message>
    <message>
        <location filename="../result_screen.py" line="73"/>
        <source>Trial result</source>
        <translation>模拟考试成绩</translation>
    </message>
    <message>
        <location filename="../result_screen.py" line="73"/>
        <source>Your result</source>
        <translation>您的成绩</translation>
    </message>
    <message>
        <location filename="../result_screen.py" line="75"/>
        <source>{score} of {max} points</source>
        <translation>{score} 分（满分 {max} 分）</translation>
    </message>
    <message>
        <location filename="../result_screen.py" line="79"/>
        <source>Passed</source>
        <translation>通过</translation>
    </message>
    <message>
        <location filename="../result_screen.py" line="79"/>
        <source>Not passed</source>
        <translation>未通过</translation>
    </message>
    <message>
        <location filename="../result_screen.py" line="84"/>
        <source>This was the trial exam: nothing in it counts. You may run it again as often as you like.</source>
        <translation>这是模拟考试，成绩不计入。您可以随时重复参加。</translation>
    </message>
    <message>
        <location filename="../result_screen.py" line="89"/>
        <source>The result notice follows within 7 working days. The e-certificate can be looked up 3 working days after the exam; the paper certificate is mailed within 30 days.</source>
        <translation>成绩通知将在 7 个工作日内发出。电子证书可在考后 3 个工作日查询；纸质证书将在 30 天内寄出。</translation>
    </message>
    <message>
        <location filename="../result_screen.py" line="95"/>
        <source>The result notice follows within 7 working days. After a first attempt you may take one free retake within 3 months.</source>
        <translation>成绩通知将在 7 个工作日内发出。首次考试未通过者，可在 3 个月内免费补考一次。</translation>
    </message>
</context>
<context>
    <name>RulesScreen</name>
    <message>
        <location filename="../rules_screen.py" line="89"/>
        <source>Rules of conduct and what is recorded</source>
        <translation>考试规则与录制说明</translation>
    </message>
    <message>
        <location filename="../rules_screen.py" line="92"/>
        <source>Rules of conduct</source>
        <translation>考试规则</translation>
    </message>
    <message>
        <location filename="../rules_screen.py" line="94"/>
        <source>• Take the exam alone, in a quiet and well-lit room; keep your face in the camera&apos;s view.
• Keep the exam window on screen until you submit. Leaving it (another window, minimising) is recorded automatically and uses one warning.
• Use one screen. Do not use a virtual machine, a virtual camera, screen-recording, remote-desktop or screen-sharing software.
• No notes, books, phones or other people; do not talk to anyone.
• Do not copy, photograph or share the questions: the watermark on the paper names you.</source>
        <translation>• 请独自在安静、光线充足的房间参加考试；面部始终保持在摄像头画面内。
• 交卷前请始终停留在考试窗口。离开考试窗口（切换到其他窗口、最小化）会被系统自动记录，并使用一次警告。
• 只能使用一台显示器。不得使用虚拟机、虚拟摄像头、录屏、远程桌面或屏幕共享软件。
• 不得使用笔记、书籍、手机，不得有他人在场；不得与任何人交谈。
• 不得抄录、拍摄或传播试题：试卷上的水印带有您的身份信息。</translation>
    </message>
    <message>
        <location filename="../rules_screen.py" line="106"/>
        <source>What is recorded</source>
        <translation>录制内容</translation>
    </message>
    <message>
        <location filename="../rules_screen.py" line="108"/>
        <source>• Your identity photo, and photos from your camera during the exam.
• Your camera and microphone, which the proctors can watch and hear live; the video and sound of the seconds around each possible breach of these rules are kept as evidence (the whole session too, where the exam body records it).
• Screen signals: leaving the exam window, a screen connected, a virtual machine or camera, screen-recording or remote-desktop programs running. The contents of your screen are not recorded.
• Your answers and the time of each of your actions.</source>
        <translation>• 您的身份照片，以及考试期间摄像头拍摄的照片。
• 您的摄像头和麦克风，监考老师可以实时观看和收听；每次可能违规前后数秒的视频和声音会作为证据保存（如考试机构录制整场考试，则保存整场录像）。
• 屏幕信号：离开考试窗口、连接显示器、虚拟机或虚拟摄像头、正在运行的录屏或远程桌面程序。不录制您的屏幕内容。
• 您的答案以及每次操作的时间。</translation>
    </message>
    <message>
        <location filename="../rules_screen.py" line="120"/>
        <source>How long it is kept</source>
        <translation>保存期限</translation>
    </message>
    <message>
        <location filename="../rules_screen.py" line="122"/>
        <source>The recordings are kept for the period your exam body has set for the exam ({months} months unless it has set another), so that results can be checked and appeals decided, and then deleted.</source>
        <translation>录制内容按考试机构为本场考试设定的期限保存（未另行设定时为 {months} 个月），用于核查成绩和处理申诉，之后删除。</translation>
    </message>
    <message>
        <location filename="../rules_screen.py" line="128"/>
        <source>Who sees it</source>
        <translation>谁可以查看</translation>
    </message>
    <message>
        <location filename="../rules_screen.py" line="130"/>
        <source>The proctors of your exam, during and after it, and the exam staff who check results and decide appeals. It is not given to anyone else.</source>
        <translation>您所在考场的监考老师（考试期间及考后），以及负责核查成绩和处理申诉的考务人员。不会提供给其他任何人。</translation>
    </message>
    <message>
        <location filename="../rules_screen.py" line="138"/>
        <source>Rules version {version}</source>
        <translation>规则版本 {version}</translation>
    </message>
    <message>
        <location filename="../rules_screen.py" line="141"/>
        <source>I have read the rules of conduct and I agree that my camera, microphone and screen signals are recorded as described.</source>
        <translation>我已阅读考试规则，并同意按上述说明录制我的摄像头、麦克风和屏幕信号。</translation>
    </message>
    <message>
        <location filename="../rules_screen.py" line="145"/>
        <source>Accept and continue</source>
        <translation>同意并继续</translation>
    </message>
    <message>
        <location filename="../rules_screen.py" line="146"/>
        <source>Back</source>
        <translation>返回</translation>
    </message>
</context>
<context>
    <name>ServerReasons</name>
    <message>
        <location filename="../texts.py" line="111"/>
        <source>The photo could not be read. Please take it again.</source>
        <translation>无法读取照片，请重新拍摄。</translation>
    </message>
    <message>
        <location filename="../texts.py" line="112"/>
        <source>We could not find your face. Face the camera with your whole face in view.</source>
        <translation>未能识别到您的面部。请正对摄像头，露出完整面部。</translation>
    </message>
    <message>
        <location filename="../texts.py" line="116"/>
        <source>More than one face is in the photo. Only you should be in view.</source>
        <translation>照片中有多张人脸。画面中只能有您本人。</translation>
    </message>
    <message>
        <location filename="../texts.py" line="119"/>
        <source>Your face is too small in the photo. Move closer to the camera.</source>
        <translation>照片中您的面部太小，请靠近摄像头。</translation>
    </message>
    <message>
        <location filename="../texts.py" line="122"/>
        <source>The camera shows only black. Uncover the camera or choose another one.</source>
        <translation>摄像头画面全黑。请打开镜头遮挡或更换摄像头。</translation>
    </message>
    <message>
        <location filename="../texts.py" line="125"/>
        <source>The camera shows nothing. Uncover the camera lens.</source>
        <translation>摄像头没有画面，请打开镜头遮挡。</translation>
    </message>
    <message>
        <location filename="../texts.py" line="126"/>
        <source>The photo is too dark. Turn on a light in front of you.</source>
        <translation>照片太暗，请打开您前方的灯。</translation>
    </message>
    <message>
        <location filename="../texts.py" line="127"/>
        <source>The photo is too bright. Move away from a window or bright light behind the camera.</source>
        <translation>照片太亮，请避开摄像头正对的窗户或强光。</translation>
    </message>
    <message>
        <location filename="../texts.py" line="131"/>
        <source>The photo is blurred. Hold still and check that the camera lens is clean.</source>
        <translation>照片模糊，请保持不动并确认镜头干净。</translation>
    </message>
    <message>
        <location filename="../texts.py" line="134"/>
        <source>Look straight at the camera.</source>
        <translation>请正视摄像头。</translation>
    </message>
    <message>
        <location filename="../texts.py" line="135"/>
        <source>The photo does not match your registration photo. If this is you, ask the exam staff for help.</source>
        <translation>照片与您的报名照片不符。如确为本人，请联系考务人员。</translation>
    </message>
    <message>
        <location filename="../texts.py" line="156"/>
        <source>The photo is too small. Please take it with the camera preview.</source>
        <translation>照片太小，请使用摄像头预览拍照。</translation>
    </message>
    <message>
        <location filename="../texts.py" line="159"/>
        <source>The photo is too large. Please take it with the camera preview.</source>
        <translation>照片太大，请使用摄像头预览拍照。</translation>
    </message>
</context>
<context>
    <name>Texts</name>
    <message>
        <location filename="../texts.py" line="28"/>
        <source>The exam entry is not open yet</source>
        <translation>考试入口尚未开放</translation>
    </message>
    <message>
        <location filename="../texts.py" line="29"/>
        <source>The exam entry has closed</source>
        <translation>考试入口已关闭</translation>
    </message>
    <message>
        <location filename="../texts.py" line="30"/>
        <source>This admission ticket is not valid</source>
        <translation>准考证号无效</translation>
    </message>
    <message>
        <location filename="../texts.py" line="31"/>
        <source>This exam is over for you</source>
        <translation>您的考试已结束</translation>
    </message>
    <message>
        <location filename="../texts.py" line="32"/>
        <source>The exam server cannot be reached</source>
        <translation>无法连接考试服务器</translation>
    </message>
    <message>
        <location filename="../texts.py" line="33"/>
        <source>The trial exam is not available</source>
        <translation>模拟考试暂不可用</translation>
    </message>
    <message>
        <location filename="../texts.py" line="34"/>
        <source>The exam was opened on another device or window</source>
        <translation>考试已在其他设备或窗口中打开</translation>
    </message>
    <message>
        <location filename="../texts.py" line="37"/>
        <source>This app is too old</source>
        <translation>本应用版本过旧</translation>
    </message>
    <message>
        <location filename="../texts.py" line="39"/>
        <source>Something went wrong</source>
        <translation>出现错误</translation>
    </message>
    <message>
        <location filename="../texts.py" line="44"/>
        <source>You can enter from 30 minutes before the start. Please come back then; you may run the trial exam meanwhile.</source>
        <translation>考前 30 分钟开放入场，请届时再来；在此之前可以先参加模拟考试。</translation>
    </message>
    <message>
        <location filename="../texts.py" line="49"/>
        <source>The entry closes 30 minutes after the start. A candidate who has not entered by then is counted as absent.</source>
        <translation>开考 30 分钟后停止入场，届时未入场的考生按缺考处理。</translation>
    </message>
    <message>
        <location filename="../texts.py" line="54"/>
        <source>Check the ticket in your exam notice (copy it again without spaces). If it still fails, contact the exam staff.</source>
        <translation>请核对考试通知中的准考证号（重新复制，不要带空格）。如仍无法进入，请联系考务人员。</translation>
    </message>
    <message>
        <location filename="../texts.py" line="59"/>
        <source>Your attempt was already submitted, timed out or ended. Your result notice will follow.</source>
        <translation>您的考试已交卷、超时或被终止。成绩通知将随后发出。</translation>
    </message>
    <message>
        <location filename="../texts.py" line="64"/>
        <source>Check your network connection and the server address, then try again. Anything you have answered is kept on this computer.</source>
        <translation>请检查网络连接和服务器地址后重试。您已作答的内容均保存在本机。</translation>
    </message>
    <message>
        <location filename="../texts.py" line="69"/>
        <source>The trial is open before the exam only. Contact the exam staff if you need it.</source>
        <translation>模拟考试仅在正式考试前开放。如有需要，请联系考务人员。</translation>
    </message>
    <message>
        <location filename="../texts.py" line="73"/>
        <source>Only one window may hold your exam. Continue in the other one, or close it and enter again here.</source>
        <translation>同一场考试只能在一个窗口中进行。请在另一个窗口继续，或关闭它后在这里重新进入。</translation>
    </message>
    <message>
        <location filename="../texts.py" line="78"/>
        <source>Install the latest version of the exam app, then enter again.</source>
        <translation>请安装最新版本的考试应用，然后重新进入。</translation>
    </message>
    <message>
        <location filename="../texts.py" line="84"/>
        <source>Please try again. If it keeps happening, contact the exam staff.</source>
        <translation>请重试。如问题持续，请联系考务人员。</translation>
    </message>
    <message>
        <location filename="../texts.py" line="92"/>
        <source>Too dark: turn on a light in front of you.</source>
        <translation>光线太暗：请打开您前方的灯。</translation>
    </message>
    <message>
        <location filename="../texts.py" line="95"/>
        <source>Too bright: move away from the window or the lamp behind the camera.</source>
        <translation>光线太亮：请避开摄像头正对的窗户或灯光。</translation>
    </message>
    <message>
        <location filename="../texts.py" line="98"/>
        <source>Blurred: hold still and clean the camera lens.</source>
        <translation>照片模糊：请保持不动并擦拭摄像头镜头。</translation>
    </message>
    <message>
        <location filename="../texts.py" line="101"/>
        <source>The camera shows nothing: uncover the lens or choose another camera.</source>
        <translation>摄像头没有画面：请打开镜头遮挡或更换摄像头。</translation>
    </message>
    <message>
        <location filename="../texts.py" line="183"/>
        <source>This is not possible at this step.</source>
        <translation>当前步骤不允许此操作。</translation>
    </message>
    <message>
        <location filename="../texts.py" line="184"/>
        <source>The time is over: this was not saved.</source>
        <translation>考试时间已结束：此操作未被保存。</translation>
    </message>
    <message>
        <location filename="../texts.py" line="187"/>
        <source>Your identity photo must be accepted first.</source>
        <translation>您的身份照片需先通过验证。</translation>
    </message>
    <message>
        <location filename="../texts.py" line="190"/>
        <source>This question is not in your paper.</source>
        <translation>您的试卷中没有这道题。</translation>
    </message>
    <message>
        <location filename="../texts.py" line="193"/>
        <source>This choice is not valid.</source>
        <translation>该选项无效。</translation>
    </message>
    <message>
        <location filename="../texts.py" line="194"/>
        <source>The app and the server did not understand each other. Update the app.</source>
        <translation>应用与服务器通信出错，请更新应用。</translation>
    </message>
    <message>
        <location filename="../texts.py" line="197"/>
        <source>The server failed; it will be tried again.</source>
        <translation>服务器出错，将自动重试。</translation>
    </message>
    <message>
        <location filename="../texts.py" line="200"/>
        <source>This computer could not keep your work (is the disk full?).</source>
        <translation>本机无法保存您的作答（磁盘是否已满？）。</translation>
    </message>
    <message>
        <location filename="../texts.py" line="203"/>
        <source>The exam was opened on another device or window; this one stopped.</source>
        <translation>考试已在其他设备或窗口中打开，本窗口已停止。</translation>
    </message>
    <message>
        <location filename="../texts.py" line="212"/>
        <source>Required</source>
        <translation>必填</translation>
    </message>
    <message>
        <location filename="../texts.py" line="213"/>
        <source>Name is too long</source>
        <translation>姓名过长</translation>
    </message>
    <message>
        <location filename="../texts.py" line="214"/>
        <source>Enter a mobile number such as 13800138000</source>
        <translation>请输入手机号码，例如 13800138000</translation>
    </message>
    <message>
        <location filename="../texts.py" line="217"/>
        <source>Enter the full address: street, building, room</source>
        <translation>请填写完整地址：街道、楼栋、房间号</translation>
    </message>
    <message>
        <location filename="../texts.py" line="220"/>
        <source>Address is too long</source>
        <translation>地址过长</translation>
    </message>
    <message>
        <location filename="../texts.py" line="221"/>
        <source>Enter a postcode such as 100080</source>
        <translation>请输入邮政编码，例如 100080</translation>
    </message>
    <message>
        <location filename="../texts.py" line="230"/>
        <source>You submitted the exam.</source>
        <translation>您已交卷。</translation>
    </message>
    <message>
        <location filename="../texts.py" line="231"/>
        <source>The time was up; your saved answers were scored.</source>
        <translation>考试时间已到，已按您保存的答案评分。</translation>
    </message>
    <message>
        <location filename="../texts.py" line="234"/>
        <source>The proctor ended your exam.</source>
        <translation>监考老师终止了您的考试。</translation>
    </message>
</context>
<context>
    <name>TrialScreen</name>
    <message>
        <location filename="../trial_screen.py" line="46"/>
        <source>Trial exam</source>
        <translation>模拟考试</translation>
    </message>
    <message>
        <location filename="../trial_screen.py" line="49"/>
        <source>The trial exam checks that you can log in, take the identity photo and answer questions. Its questions have nothing to do with the real exam and nothing in it counts. You may run it as often as you like before the exam.</source>
        <translation>模拟考试用于确认您能够登录、拍摄身份照片并作答。模拟题与正式考试无关，成绩不计入。考前可以不限次数参加。</translation>
    </message>
    <message>
        <location filename="../trial_screen.py" line="56"/>
        <source>1. Take the identity photo.
2. Answer a few practice questions.
3. Submit and see a practice score.</source>
        <translation>1. 拍摄身份照片。
2. 回答几道练习题。
3. 交卷并查看练习成绩。</translation>
    </message>
    <message>
        <location filename="../trial_screen.py" line="61"/>
        <source>Trials completed so far: {n}</source>
        <translation>已完成模拟考试：{n} 次</translation>
    </message>
    <message>
        <location filename="../trial_screen.py" line="64"/>
        <source>Run the trial again</source>
        <translation>再做一次模拟考试</translation>
    </message>
    <message>
        <location filename="../trial_screen.py" line="64"/>
        <source>Start the trial</source>
        <translation>开始模拟考试</translation>
    </message>
    <message>
        <location filename="../trial_screen.py" line="66"/>
        <source>Back</source>
        <translation>返回</translation>
    </message>
</context>
<context>
    <name>WaitingScreen</name>
    <message>
        <location filename="../waiting_screen.py" line="59"/>
        <source>Waiting room</source>
        <translation>候考室</translation>
    </message>
    <message>
        <location filename="../waiting_screen.py" line="60"/>
        <source>The exam starts in</source>
        <translation>距离开考还有</translation>
    </message>
    <message>
        <location filename="../waiting_screen.py" line="63"/>
        <source>Stay in front of the camera. The questions appear by themselves when the exam starts; the time shown is the exam server&apos;s.</source>
        <translation>请保持在摄像头前。开考后试题会自动显示；所示时间以考试服务器为准。</translation>
    </message>
    <message>
        <location filename="../waiting_screen.py" line="74"/>
        <source>Start: {time}</source>
        <translation>开考时间：{time}</translation>
    </message>
    <message>
        <location filename="../waiting_screen.py" line="81"/>
        <source>Identity photo accepted</source>
        <translation>身份照片已通过</translation>
    </message>
    <message>
        <location filename="../waiting_screen.py" line="83"/>
        <source>Postal address for the certificate saved</source>
        <translation>证书邮寄地址已保存</translation>
    </message>
</context>
</TS>
